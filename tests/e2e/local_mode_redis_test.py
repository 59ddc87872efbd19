"""End to end, local mode, on a real Redis: a MirrordSplitConfig with a redisStream queue
(qsplit's own kind), its connection from a MirrordPropertyList, a deployed consumer reading the
stream in its consumer group under `qsplit exec`, two developers under `qsplit run` (one
filtering on an entry field, one with a jq_filter), and redis-cli adding entries; per entry,
who received it."""
import json
import os
import signal
import subprocess
import unittest

import harness as h
from redis_e2e import CLIENT, RedisClients, split_config_yaml

STREAM_VAR, GROUP_VAR, GROUP = "ORDERS_STREAM", "ORDERS_GROUP", "order-workers"


def resources_yaml(workload, port):
    return split_config_yaml(workload, port, "redisStream", "orders", f"""stream:
      - env: {STREAM_VAR}
      group:
      - env: {GROUP_VAR}""")


class LocalModeRedis(RedisClients, unittest.TestCase):
    def setUp(self):
        self.port = h.require("QSPLIT_REDIS_PORT")
        self.dir = h.tempdir(self.id().split(".")[-1])
        self.procs = h.Processes(self.dir)
        self.addCleanup(lambda: self.procs.stop_all())
        self.workload = h.unique("orders")
        self.stream = h.unique("orders:stream")
        self.redis("XGROUP", "CREATE", self.stream, GROUP, "$", "MKSTREAM")

    def start_daemon(self, enabled=True):
        resources = os.path.join(self.dir, "resources")
        os.makedirs(resources, exist_ok=True)
        h.write(os.path.join(resources, "orders.yaml"), resources_yaml(self.workload, self.port))
        self.daemon = h.Daemon(self.procs, self.dir, f"""redis:
  enabled: {"true" if enabled else "false"}
  claim_idle: 2s
splitting:
  linger_timeout: 20
""", resources).start()
        self.env = {"QSPLIT_SERVER": self.daemon.url, "QSPLIT_REDIS_PORT": self.port}

    def exec_workload(self):
        out = os.path.join(self.dir, "workload.jsonl")
        env = dict(self.env, **{STREAM_VAR: self.stream, GROUP_VAR: GROUP})
        h.exec_workload(self.procs, self.daemon, env, self.workload,
                        ["python3", CLIENT, "consume", STREAM_VAR, GROUP_VAR, out])

    def config(self, name, split):
        return h.write(os.path.join(self.dir, name + ".json"), json.dumps({
            "target": f"deployment/{self.workload}",
            "feature": {"split_queues": {"orders": dict({"queue_type": "RedisStream"}, **split)}}}))

    def run_developer(self, name, split, exit_on=None):
        out = os.path.join(self.dir, name + ".jsonl")
        command = ["python3", CLIENT, "consume", STREAM_VAR, GROUP_VAR, out] + (["--exit-on", exit_on] if exit_on else [])
        return h.run_session(self.procs, self.daemon, self.config(name, split), command, name,
                             dict(self.env, **{GROUP_VAR: GROUP}))

    def produce(self, entries):
        self.client("send", self.stream, stdin="".join(json.dumps(e) + "\n" for e in entries))

    def wait_received(self, bodies, names):
        h.eventually(lambda: all(b in h.receivers(self.dir, names) for b in bodies), 90,
                     f"{len(bodies)} entries to be read")
        return h.copies(self.dir, names)

    def test_two_developers_split_by_field_and_by_jq(self):
        self.start_daemon()
        self.exec_workload()
        alice, alice_id = self.run_developer("alice", {"message_filter": {"tenant": "^alice$"}},
                                             exit_on="alice-bye")
        bob, bob_id = self.run_developer("bob", {"jq_filter": '.fields.kind == "refund"'})
        names = ["workload", "alice", "bob"]
        self.assertEqual(len(self.temporaries()), 3)  # the workload's fallback and one each

        tenants, kinds = ["alice", "bob", "carol"], ["order", "refund"]
        phase1 = [{"body": f"p1-{i}", "attributes": {"tenant": tenants[i % 3], "kind": kinds[(i // 3) % 2],
                                                     "seq": i}} for i in range(60)]
        self.produce(phase1)
        got = self.wait_received([e["body"] for e in phase1], names)

        def expected(e):  # the first session in start order whose filter matches; else the workload
            if e["attributes"]["tenant"] == "alice":
                return "alice"
            return "bob" if e["attributes"]["kind"] == "refund" else "workload"
        h.assert_at_least_once(self, h.receivers(self.dir, names), {e["body"]: expected(e) for e in phase1})
        for e in phase1:
            for _, received in got[e["body"]]:
                self.assertEqual(received["attributes"], {k: str(v) for k, v in e["attributes"].items()})

        bob.send_signal(signal.SIGINT)  # Ctrl-C ends bob's session
        self.assertEqual(bob.wait(timeout=60), 0)
        self.assertNotIn(bob_id, {s["id"] for s in self.daemon.sessions()})
        self.produce([{"body": "alice-bye", "attributes": {"tenant": "alice"}}])
        self.assertEqual(alice.wait(timeout=60), 0)
        self.assertNotIn(alice_id, {s["id"] for s in self.daemon.sessions()})

        # Restored: the workload reads the original again in its group, every temporary stream
        # is gone, and what follows reaches the workload.
        h.eventually(lambda: not self.daemon.queues(), 90, "the split to be restored")
        h.eventually(lambda: not self.temporaries(), 30, "every temporary stream to be deleted")
        phase2 = [{"body": f"p2-{i}", "attributes": {"tenant": "alice", "kind": "refund"}} for i in range(20)]
        self.produce(phase2)
        self.wait_received([e["body"] for e in phase2], names)
        h.assert_at_least_once(self, h.receivers(self.dir, names), {e["body"]: "workload" for e in phase2})
        streams = {record["stream"] for body, pairs in h.copies(self.dir, ["workload"]).items()
                   if body.startswith("p2-") for _, record in pairs}
        self.assertEqual(streams, {self.stream})

    def bodies(self, who):
        return [m["body"] for m in h.read_jsonl(os.path.join(self.dir, who + ".jsonl"))]

    def test_kill9_of_qsplitd_resumes_the_stream_split(self):
        self.start_daemon()
        self.exec_workload()
        alice, session = self.run_developer("alice", {"message_filter": {"tenant": "^alice$"}})
        mine, theirs = [f"a-{i}" for i in range(300)], [f"b-{i}" for i in range(300)]

        def produce(first, last):
            self.produce([{"body": b, "attributes": {"tenant": "alice"}} for b in mine[first:last]] +
                         [{"body": b, "attributes": {"tenant": "bob"}} for b in theirs[first:last]])
        produce(0, 150)
        h.eventually(lambda: len(self.bodies("alice")) + len(self.bodies("workload")) > 50, 60, "entries to flow")
        self.daemon.kill9()
        produce(150, 300)  # added while qsplitd is down
        self.daemon.start()  # the same port and store
        self.assertEqual([s["id"] for s in self.daemon.sessions()], [session])
        # What the killed qsplitd had read but not acknowledged is claimed after claim_idle (2 s).
        h.eventually(lambda: set(mine) <= set(self.bodies("alice")) and set(theirs) <= set(self.bodies("workload")),
                     120, "every entry after the restart")
        self.assertEqual(set(self.bodies("alice")), set(mine))  # at least once: none elsewhere
        self.assertEqual(set(self.bodies("workload")), set(theirs))
        alice.send_signal(signal.SIGINT)
        self.assertEqual(alice.wait(timeout=120), 0)
        h.eventually(lambda: not self.daemon.queues(), 120, "the split to be restored")
        h.eventually(lambda: not self.temporaries(), 30, "every temporary stream to be deleted")

    def test_a_missing_group_and_redis_off_are_named(self):
        self.start_daemon(enabled=False)
        self.exec_workload()
        config = self.config("alice", {"message_filter": {"tenant": "^alice$"}})
        run = subprocess.run([h.QSPLIT, "run", "-f", config, "--", "true"], env=dict(os.environ, **self.env),
                             capture_output=True, text=True, timeout=120)
        self.assertNotEqual(run.returncode, 0)
        self.assertIn("queue id 'orders' is RedisStream, and Redis splitting is not enabled in qsplitd",
                      run.stderr)
        self.procs.stop_all()

        # The workload's group is not on the stream: refused before the workload is touched.
        self.procs = h.Processes(self.dir)
        self.start_daemon()
        self.redis("XGROUP", "DESTROY", self.stream, GROUP)
        self.exec_workload()
        run = subprocess.run([h.QSPLIT, "run", "-f", config, "--", "true"], env=dict(os.environ, **self.env),
                             capture_output=True, text=True, timeout=120)
        self.assertNotEqual(run.returncode, 0)
        self.assertIn(f"queue orders: clientConfig redis-staging: redis stream {self.stream} has no consumer "
                      f"group {GROUP}", run.stderr)
        workload = self.daemon.get("/api/v1/workloads")[1]["workloads"][0]
        self.assertEqual((workload["generation"], workload["env"][STREAM_VAR]), (1, self.stream))
        self.assertEqual(self.daemon.sessions(), [])
        self.assertEqual(self.temporaries(), [])


if __name__ == "__main__":
    unittest.main()
