"""End to end, local mode, on a real Redis: a MirrordSplitConfig with a redisPubSub queue, a
deployed subscriber under `qsplit exec` (redis-cli SUBSCRIBE, restarted on each patch as a
workload would be), developers under `qsplit run`, and redis-cli publishing all the while.
Redis keeps nothing for a channel nobody reads, so the test publishes through every transition
(the patch, the sessions, the restore) and checks that each message reached someone."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
import unittest

import harness as h
from redis_e2e import CLIENT, RedisClients, split_config_yaml

CHANNEL_VAR = "EVENTS_CHANNEL"


def resources_yaml(workload, port):
    return split_config_yaml(workload, port, "redisPubSub", "events", f"""channel:
      - env: {CHANNEL_VAR}""")


class Producer:
    """redis-cli publishing numbered JSON messages every 2 ms until stopped."""

    def __init__(self, port, channel):
        self.cli = subprocess.Popen(["redis-cli", "-p", port], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                    text=True)
        self.channel, self.seq, self.running = channel, 0, True
        self.thread = threading.Thread(target=self.run)
        self.thread.start()

    @staticmethod
    def message(seq):
        return {"seq": seq, "tenant": ["alice", "bob", "carol"][seq % 3], "kind": ["order", "refund"][seq // 3 % 2]}

    def run(self):
        while self.running:
            body = json.dumps(self.message(self.seq)).replace('"', '\\"')
            self.cli.stdin.write(f'PUBLISH {self.channel} "{body}"\n')
            self.cli.stdin.flush()
            self.seq += 1
            time.sleep(0.002)

    def stop(self):
        self.running = False
        self.thread.join()
        self.cli.stdin.close()
        self.cli.wait(timeout=60)
        return self.seq


class LocalModeRedisPubSub(RedisClients, unittest.TestCase):
    def setUp(self):
        self.port = h.require("QSPLIT_REDIS_PORT")
        self.dir = h.tempdir(self.id().split(".")[-1])
        self.procs = h.Processes(self.dir)
        self.addCleanup(lambda: self.procs.stop_all())
        self.workload = h.unique("events")
        self.channel = h.unique("events:channel")
        resources = os.path.join(self.dir, "resources")
        os.makedirs(resources, exist_ok=True)
        h.write(os.path.join(resources, "events.yaml"), resources_yaml(self.workload, self.port))
        self.daemon = h.Daemon(self.procs, self.dir, "redis:\n  enabled: true\n", resources).start()
        self.env = {"QSPLIT_SERVER": self.daemon.url, "QSPLIT_REDIS_PORT": self.port}
        out = os.path.join(self.dir, "workload.jsonl")
        h.exec_workload(self.procs, self.daemon, dict(self.env, **{CHANNEL_VAR: self.channel}), self.workload,
                        ["python3", CLIENT, "subscribe", "SUBSCRIBE", CHANNEL_VAR, out])
        h.eventually(lambda: self.subscribers(self.channel) == 1, 60, "the workload to subscribe")

    def subscribers(self, channel):
        return int(self.redis("PUBSUB", "NUMSUB", channel).split()[1])

    def run_developer(self, name, split, exit_on=None):
        config = h.write(os.path.join(self.dir, name + ".json"), json.dumps({
            "target": f"deployment/{self.workload}",
            "feature": {"split_queues": {"events": dict({"queue_type": "RedisPubSub"}, **split)}}}))
        out = os.path.join(self.dir, name + ".jsonl")
        command = ["python3", CLIENT, "subscribe", "SUBSCRIBE", CHANNEL_VAR, out] + (
            ["--exit-on", exit_on] if exit_on else [])
        return h.run_session(self.procs, self.daemon, config, command, name, self.env)

    def seqs(self, who):
        return [json.loads(m["body"])["seq"] for m in h.read_jsonl(os.path.join(self.dir, who + ".jsonl"))
                if m["body"].startswith("{")]

    def test_nothing_is_lost_through_the_patch_the_split_and_after_the_restore(self):
        producer = Producer(self.port, self.channel)
        alice, _ = self.run_developer("alice", {"message_filter": {"tenant": "^alice$"}})
        bob, _ = self.run_developer("bob", {"jq_filter": '.kind == "refund"'})
        h.eventually(lambda: len(self.seqs("bob")) > 100, 60, "bob to receive refunds")
        steady_from = producer.seq
        time.sleep(1.0)
        steady_to = producer.seq
        bob.send_signal(signal.SIGINT)  # Ctrl-C ends bob's session
        self.assertEqual(bob.wait(timeout=60), 0)
        alice.send_signal(signal.SIGINT)
        self.assertEqual(alice.wait(timeout=60), 0)
        h.eventually(lambda: not self.daemon.queues(), 90, "the split to be restored")
        # qsplit unsubscribes once the restored workload has subscribed to the original again.
        h.eventually(lambda: self.subscribers(self.channel) == 1, 30, "qsplit to unsubscribe")
        restored_at = producer.seq
        time.sleep(0.5)
        total = producer.stop()
        time.sleep(1.0)

        got = {}
        for who in ("workload", "alice", "bob"):
            for seq in self.seqs(who):
                got.setdefault(seq, set()).add(who)

        def expected(seq):
            m = Producer.message(seq)
            return "alice" if m["tenant"] == "alice" else "bob" if m["kind"] == "refund" else "workload"
        # Through the workload's restart onto the fallback (messages wait in qsplit until it has
        # subscribed), the sessions' starts and the split, and after the restore, nothing is lost.
        # Between the first session's end and the restore, a subscriber that is stopped (the
        # developer's, then the workload's own restart in local mode) may take with it what Redis
        # had already pushed to it; that count is printed, not asserted (docs/redis.md).
        lost = [s for s in list(range(steady_to)) + list(range(restored_at, total)) if s not in got]
        ends = [s for s in range(steady_to, restored_at) if s not in got]
        misrouted = {s: got[s] for s in range(steady_from, steady_to) if got.get(s) != {expected(s)}}
        wrong = [s for s in got if ("alice" in got[s] or "bob" in got[s]) and expected(s) not in got[s]]
        after = sorted(s for s in range(restored_at, total) if got.get(s) != {"workload"})
        print(f"{self.id()}: {total} published, {len(lost)} lost; between the first end and the restore "
              f"{len(ends)} of {restored_at - steady_to} reached no one", file=sys.stderr)
        self.assertEqual((lost, misrouted, wrong, after), ([], {}, [], []),
                         "lost, misrouted while both split, developers' that were not theirs, and "
                         "not the workload's alone after the restore")

    def test_kill9_of_qsplitd_resumes_the_split(self):
        alice, session = self.run_developer("alice", {"message_filter": {"tenant": "^alice$"}})
        self.daemon.kill9()
        self.daemon.start()  # the same port and store: the session resumes, subscribed again
        self.assertEqual([s["id"] for s in self.daemon.sessions()], [session])
        h.eventually(lambda: self.subscribers(self.channel) == 1, 60, "qsplit to subscribe again")
        producer = Producer(self.port, self.channel)
        h.eventually(lambda: len(self.seqs("alice")) > 50 and len(self.seqs("workload")) > 50, 60,
                     "messages after the restart")
        total = producer.stop()
        time.sleep(1.0)
        self.assertTrue(all(s % 3 == 0 for s in self.seqs("alice")))
        self.assertTrue(all(s % 3 != 0 for s in self.seqs("workload")))
        self.assertEqual(sorted(set(self.seqs("alice")) | set(self.seqs("workload"))), list(range(total)))
        alice.send_signal(signal.SIGINT)
        self.assertEqual(alice.wait(timeout=120), 0)
        h.eventually(lambda: not self.daemon.queues(), 120, "the split to be restored")

    def test_redis_pubsub_off_is_named(self):
        self.procs.stop_all()
        self.procs = h.Processes(self.dir)
        self.daemon = h.Daemon(self.procs, self.dir, "redis:\n  enabled: true\n  pubsub: false\n",
                               os.path.join(self.dir, "resources")).start()
        self.env["QSPLIT_SERVER"] = self.daemon.url
        h.exec_workload(self.procs, self.daemon, dict(self.env, **{CHANNEL_VAR: self.channel}), self.workload,
                        ["python3", CLIENT, "subscribe", "SUBSCRIBE", CHANNEL_VAR, os.path.join(self.dir, "w.jsonl")])
        config = h.write(os.path.join(self.dir, "alice.json"), json.dumps({
            "target": f"deployment/{self.workload}",
            "feature": {"split_queues": {"events": {"queue_type": "RedisPubSub",
                                                    "message_filter": {"tenant": "^alice$"}}}}}))
        run = subprocess.run([h.QSPLIT, "run", "-f", config, "--", "true"], env=dict(os.environ, **self.env),
                             capture_output=True, text=True, timeout=120)
        self.assertNotEqual(run.returncode, 0)
        self.assertIn("queue id 'events' is RedisPubSub, and Redis Pub/Sub splitting is not enabled in qsplitd",
                      run.stderr)


if __name__ == "__main__":
    unittest.main()
