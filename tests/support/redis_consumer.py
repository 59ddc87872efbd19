"""A Redis client for the end-to-end tests, on redis-cli (port $QSPLIT_REDIS_PORT).

  redis_consumer.py consume STREAM_VAR GROUP_VAR OUT [--exit-on BODY]
      An app: reads the stream named by $STREAM_VAR in the consumer group named by $GROUP_VAR,
      acknowledging each entry, and appends {"body", "attributes", "stream"} to OUT per entry
      (`body` is the entry's field of that name, `attributes` the others). Exits on SIGTERM or
      SIGINT, or
      after the entry whose body is BODY.
  redis_consumer.py subscribe COMMAND CHANNEL_VAR OUT [--exit-on BODY]
      An app on Pub/Sub: redis-cli subscribes (COMMAND: SUBSCRIBE, PSUBSCRIBE or SSUBSCRIBE) to the
      channel named by $CHANNEL_VAR, and each message is appended to OUT as {"body", "channel"}.
      Exits on SIGTERM or SIGINT, or after the message whose body is BODY.
  redis_consumer.py send STREAM
      Adds one entry per JSON line {"body", "attributes"} on stdin.
  redis_consumer.py streams
      Prints the server's stream names, one per line.
"""
import json
import os
import signal
import subprocess
import sys
import time


def cli(*args, check=True):
    """redis-cli's answer as JSON; None for an empty answer, or for a refusal when not `check`."""
    done = subprocess.run(["redis-cli", "-p", os.environ["QSPLIT_REDIS_PORT"], "--json", "-2"] + list(args),
                          capture_output=True, text=True, timeout=60)
    refused = done.returncode != 0 or done.stdout.lower().startswith("error")  # --json: error:"..."
    if refused and check:
        sys.exit(f"redis-cli {' '.join(args)}: {done.stderr}{done.stdout}")
    if refused or not done.stdout.strip():
        return None
    return json.loads(done.stdout)


def quoted(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def consume(stream_var, group_var, out, exit_on):
    stream, group = os.environ[stream_var], os.environ[group_var]
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(True))  # Ctrl-C through qsplit run
    consumer = f"app-{os.getpid()}"
    while not stopping:
        # A refusal (the stream or its group not there yet, as while an app starts) is tried again.
        reply = cli("XREADGROUP", "GROUP", group, consumer, "COUNT", "100", "BLOCK", "500",
                    "STREAMS", stream, ">", check=False)
        if not reply:
            time.sleep(0.1)
            continue
        done = False
        with open(out, "a") as f:
            for entry_id, fields in reply[0][1]:
                pairs = dict(zip(fields[0::2], fields[1::2]))
                body = pairs.pop("body", "")
                f.write(json.dumps({"body": body, "attributes": pairs, "stream": stream}) + "\n")
                cli("XACK", stream, group, entry_id)
                done = done or body == exit_on
        if done:
            return


def subscribe(command, channel_var, out, exit_on):
    reader = subprocess.Popen(["redis-cli", "-p", os.environ["QSPLIT_REDIS_PORT"], "--csv", command,
                               os.environ[channel_var]], stdout=subprocess.PIPE, text=True)

    def stop(*_):
        reader.terminate()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)  # Ctrl-C through qsplit run
    for line in reader.stdout:
        fields = json.loads("[" + line + "]") if line.startswith('"') else []
        if len(fields) < 3 or fields[0] not in ("message", "pmessage", "smessage"):
            continue
        with open(out, "a") as f:
            f.write(json.dumps({"body": fields[-1], "channel": fields[-2]}) + "\n")
        if fields[-1] == exit_on:
            stop()
    reader.wait()


def send(stream):
    commands = ""
    for line in sys.stdin:
        m = json.loads(line)
        fields = " ".join(f"{quoted(k)} {quoted(str(v))}" for k, v in m.get("attributes", {}).items())
        commands += f"XADD {quoted(stream)} * {fields} body {quoted(m['body'])}\n"
    subprocess.run(["redis-cli", "-p", os.environ["QSPLIT_REDIS_PORT"]], input=commands, text=True,
                   check=True, capture_output=True, timeout=120)


def main():
    verb = sys.argv[1]
    if verb == "consume":
        exit_on = sys.argv[sys.argv.index("--exit-on") + 1] if "--exit-on" in sys.argv else None
        consume(sys.argv[2], sys.argv[3], sys.argv[4], exit_on)
    elif verb == "subscribe":
        exit_on = sys.argv[sys.argv.index("--exit-on") + 1] if "--exit-on" in sys.argv else None
        subscribe(sys.argv[2], sys.argv[3], sys.argv[4], exit_on)
    elif verb == "send":
        send(sys.argv[2])
    elif verb == "streams":
        reply = cli("SCAN", "0", "COUNT", "100000", "TYPE", "stream")
        print("\n".join(reply[1]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
