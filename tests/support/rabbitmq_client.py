"""The independent RabbitMQ client of the tests: pika for AMQP, the management HTTP API for
listing and describing queues.

  rabbitmq_client.py declare QUEUE [ARGUMENTS_JSON]   durable queue (x-queue-type etc. in arguments)
  rabbitmq_client.py send QUEUE    < JSON lines {"body", "headers": {...}, "properties": {...}}
  rabbitmq_client.py drain QUEUE   > JSON lines {"body", "headers", "properties", "redelivered"},
                                     every message received (and acked) until 1 s passes empty
  rabbitmq_client.py list          > queue names, one per line
  rabbitmq_client.py describe QUEUE > the management API's JSON for the queue
  rabbitmq_client.py delete QUEUE
  rabbitmq_client.py declare-exchange NAME    a fanout exchange, as an app that auto-binds does
  rabbitmq_client.py exchange NAME            > the management API's JSON for it, or null
  rabbitmq_client.py consume QUEUE_VAR OUTPUT_FILE [--exit-on BODY]
                                   a consumer as a developer or a deployed service runs it: reads
                                   the queue named in env var QUEUE_VAR, appends one JSON line
                                   {"queue", "body", "attributes": headers} per message to
                                   OUTPUT_FILE (flushed), then acks it; SIGTERM and SIGINT stop it
                                   after the message in hand; --exit-on BODY exits after that one

The server is QSPLIT_RABBITMQ_URL and QSPLIT_RABBITMQ_MANAGEMENT (scripts/rabbitmq.sh).
Headers travel with pika's types: str as a string, int as an integer, bool as a boolean.
"""
import base64
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

import pika

URL = os.environ["QSPLIT_RABBITMQ_URL"]
MANAGEMENT = os.environ["QSPLIT_RABBITMQ_MANAGEMENT"]
PROPERTIES = ["content_type", "content_encoding", "delivery_mode", "priority", "correlation_id",
              "reply_to", "expiration", "message_id", "timestamp", "type", "user_id", "app_id"]


def channel():
    connection = pika.BlockingConnection(pika.URLParameters(URL))
    return connection, connection.channel()


def management(path, method="GET"):
    request = urllib.request.Request(MANAGEMENT + path, method=method)
    token = base64.b64encode(b"guest:guest").decode()
    request.add_header("Authorization", "Basic " + token)
    with urllib.request.urlopen(request) as answer:
        body = answer.read()
        return json.loads(body) if body else None


def quoted(name):
    return urllib.parse.quote(name, safe="")


def send(name):
    connection, ch = channel()
    ch.confirm_delivery()
    for line in sys.stdin:
        if not line.strip():
            continue
        m = json.loads(line)
        properties = pika.BasicProperties(headers=m.get("headers") or None, **m.get("properties", {}))
        ch.basic_publish("", name, m["body"].encode(), properties, mandatory=True)
    connection.close()


def drain(name):
    connection, ch = channel()
    for method, properties, body in ch.consume(name, inactivity_timeout=1.0):
        if method is None:
            break
        print(json.dumps({
            "body": body.decode("utf-8", "replace"),
            "headers": properties.headers or {},
            "properties": {p: getattr(properties, p) for p in PROPERTIES
                           if getattr(properties, p) is not None},
            "redelivered": method.redelivered,
        }, default=str))
        ch.basic_ack(method.delivery_tag)
    ch.cancel()
    connection.close()


stop = False


def consume(var, output, exit_on):
    import signal

    def on_signal(signum, frame):
        global stop
        stop = True
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    queue = os.environ[var]
    connection, ch = channel()
    ch.basic_qos(prefetch_count=10)
    with open(output, "a") as out:
        for method, properties, body in ch.consume(queue, inactivity_timeout=0.5):
            if stop:
                break
            if method is None:
                continue
            text = body.decode("utf-8", "replace")
            headers = {k: str(v) for k, v in (properties.headers or {}).items()}
            out.write(json.dumps({"queue": queue, "body": text, "attributes": headers,
                                  "type": properties.type}) + "\n")
            out.flush()
            ch.basic_ack(method.delivery_tag)
            if text == exit_on:
                break
    connection.close()


def main():
    verb, rest = sys.argv[1], sys.argv[2:]
    if verb == "declare":
        arguments = json.loads(rest[1]) if len(rest) > 1 else {}
        connection, ch = channel()
        ch.queue_declare(rest[0], durable=True, arguments=arguments)
        connection.close()
    elif verb == "send":
        send(rest[0])
    elif verb == "drain":
        drain(rest[0])
    elif verb == "list":
        for q in management("/api/queues?columns=name"):
            print(q["name"])
    elif verb in ("describe", "exchange"):  # null when the queue or exchange does not exist
        kind = "queues" if verb == "describe" else "exchanges"
        try:
            print(json.dumps(management(f"/api/{kind}/%2F/" + quoted(rest[0]))))
        except urllib.error.HTTPError as e:
            if e.code != 404:
                raise
            print("null")
    elif verb == "declare-exchange":
        connection, ch = channel()
        ch.exchange_declare(rest[0], exchange_type="fanout")
        connection.close()
    elif verb == "consume":
        consume(rest[0], rest[1], rest[3] if len(rest) > 3 and rest[2] == "--exit-on" else None)
    elif verb == "delete":
        management("/api/queues/%2F/" + quoted(rest[0]), method="DELETE")
    else:
        sys.exit("unknown verb " + verb)


if __name__ == "__main__":
    main()
