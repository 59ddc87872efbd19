"""End to end, local mode, on a real RabbitMQ: qsplitd with the connection from a
MirrordPropertyList (its password from a Secret), a deployed consumer under `qsplit exec`, two
developers under `qsplit run` (one filtering on a header, one on the AMQP `type` property),
and pika producing; per message, who received it, with which headers."""
import json
import os
import signal
import unittest
import urllib.parse

import harness as h

VAR = "INCOMING_ORDERS_QUEUE"
CLIENT = os.path.join(h.SOURCE, "tests/support/rabbitmq_client.py")


def resources_yaml(workload, url, password, exchange_var=None):
    parsed = urllib.parse.urlparse(url)
    extra = "      clusterProperties: rabbitmq-staging\n"
    if exchange_var:
        extra += f"      exchangeSource:\n        envVar: {exchange_var}\n"
    registry = h.registry_yaml(workload, "orders", VAR, queue_type="RMQ", extra=extra)
    return registry + f"""---
apiVersion: mirrord.metalbear.co/v1
kind: MirrordPropertyList
metadata:
  name: rabbitmq-staging
spec:
  properties:
    - name: host
      value: "{parsed.hostname}"
    - name: port
      value: "{parsed.port}"
    - name: username
      value: guest
    - name: password
      valueFrom:
        secretKeyRef: {{name: rabbitmq-credentials, key: password}}
---
apiVersion: v1
kind: Secret
metadata:
  name: rabbitmq-credentials
stringData:
  password: {password}
"""


class LocalModeRabbitMq(unittest.TestCase):
    def setUp(self):
        self.url = h.require("QSPLIT_RABBITMQ_URL")
        h.require("QSPLIT_RABBITMQ_MANAGEMENT")
        self.dir = h.tempdir(self.id().split(".")[-1])
        self.procs = h.Processes(self.dir)
        self.addCleanup(lambda: self.procs.stop_all())
        self.workload = h.unique("orders")
        self.queue = h.unique("orders-queue")
        self.client("declare", self.queue)

    def client(self, *args, stdin=None):
        import subprocess
        done = subprocess.run(["python3", CLIENT] + list(args), input=stdin, text=True,
                              capture_output=True, timeout=120)
        self.assertEqual(done.returncode, 0, done.stderr)
        return done.stdout

    def start_daemon(self, password="guest", exchange_var=None):
        resources = os.path.join(self.dir, "resources")
        os.makedirs(resources, exist_ok=True)
        h.write(os.path.join(resources, "orders.yaml"),
                resources_yaml(self.workload, self.url, password, exchange_var))
        self.daemon = h.Daemon(self.procs, self.dir, """rabbitmq:
  enabled: true
splitting:
  linger_timeout: 20
""", resources).start()
        self.env = {"QSPLIT_SERVER": self.daemon.url}

    def exec_workload(self, **more_env):
        out = os.path.join(self.dir, "workload.jsonl")
        env = dict(self.env, **{VAR: self.queue}, **more_env)
        h.exec_workload(self.procs, self.daemon, env, self.workload,
                        ["python3", CLIENT, "consume", VAR, out])

    def config(self, name, message_filter):
        return h.write(os.path.join(self.dir, name + ".json"), json.dumps({
            "target": f"deployment/{self.workload}",
            "feature": {"split_queues": {"orders": {"queue_type": "RMQ",
                                                    "message_filter": message_filter}}}}))

    def run_developer(self, name, message_filter, exit_on=None):
        out = os.path.join(self.dir, name + ".jsonl")
        command = ["python3", CLIENT, "consume", VAR, out] + (["--exit-on", exit_on] if exit_on else [])
        return h.run_session(self.procs, self.daemon, self.config(name, message_filter), command, name, self.env)

    def produce(self, messages):
        lines = "".join(json.dumps(m) + "\n" for m in messages)
        self.client("send", self.queue, stdin=lines)

    def receivers(self, names):
        return h.copies(self.dir, names)

    def wait_received(self, bodies, names):
        h.eventually(lambda: all(b in self.receivers(names) for b in bodies), 90,
                     f"{len(bodies)} messages to be consumed")
        return self.receivers(names)

    def temporaries(self):
        return [q for q in self.client("list").split() if q.startswith("mirrord-tmp-") and self.queue in q]

    def test_two_developers_split_by_header_and_by_property(self):
        self.start_daemon()
        self.exec_workload()
        alice, alice_id = self.run_developer("alice", {"author": "^alice$"}, exit_on="alice-bye")
        bob, bob_id = self.run_developer("bob", {"type": "^refund$"})
        names = ["workload", "alice", "bob"]

        authors, kinds = ["alice", "bob", "carol"], ["order", "refund"]
        phase1 = [{"body": f"p1-{i}", "headers": {"author": authors[i % 3], "seq": i},
                   "properties": {"type": kinds[(i // 3) % 2], "delivery_mode": 2}} for i in range(90)]
        self.produce(phase1)
        got = self.wait_received([m["body"] for m in phase1], names)

        def expected(m):  # first session in start order whose filter matches; else the workload
            if m["headers"]["author"] == "alice":
                return "alice"
            return "bob" if m["properties"]["type"] == "refund" else "workload"
        h.assert_at_least_once(self, h.receivers(self.dir, names),
                               {m["body"]: expected(m) for m in phase1})
        for m in phase1:
            for _, received in got[m["body"]]:
                self.assertEqual(received["attributes"], {"author": m["headers"]["author"],
                                                          "seq": str(m["headers"]["seq"])})
                self.assertEqual(received["type"], m["properties"]["type"])

        # Ctrl-C ends bob's session; the command's status is qsplit run's.
        bob.send_signal(signal.SIGINT)
        self.assertEqual(bob.wait(timeout=60), 0)
        self.assertNotIn(bob_id, {s["id"] for s in self.daemon.sessions()})
        # alice's consumer exits by itself after "alice-bye".
        self.produce([{"body": "alice-bye", "headers": {"author": "alice"}}])
        self.assertEqual(alice.wait(timeout=60), 0)
        self.assertNotIn(alice_id, {s["id"] for s in self.daemon.sessions()})

        # Restored: the workload reads the original again, and every temporary queue is gone.
        h.eventually(lambda: not self.daemon.queues(), 90, "the split to be restored")
        h.eventually(lambda: not self.temporaries(), 30, "every temporary queue to be deleted")
        phase2 = [{"body": f"p2-{i}", "headers": {"author": "alice"},
                   "properties": {"type": "refund"}} for i in range(20)]
        self.produce(phase2)
        self.wait_received([m["body"] for m in phase2], names)
        h.assert_at_least_once(self, h.receivers(self.dir, names), {m["body"]: "workload" for m in phase2})
        lost = [m["body"] for m in phase1 + phase2 if m["body"] not in self.receivers(names)]
        self.assertEqual(lost, [])

    def test_exchange_source_gives_each_app_a_dummy_exchange(self):
        self.start_daemon(exchange_var="ORDERS_EXCHANGE")
        self.exec_workload(ORDERS_EXCHANGE="orders-exchange")
        out = os.path.join(self.dir, "alice.env")
        # Alice's app declares the exchange it is told to bind to, as an auto-binding app does.
        command = (f'python3 {CLIENT} declare-exchange "$ORDERS_EXCHANGE" && '
                   f'echo "$INCOMING_ORDERS_QUEUE $ORDERS_EXCHANGE" > {out} && sleep 3')
        alice = self.procs.start([h.QSPLIT, "run", "-f", self.config("alice", {"author": "^alice$"}),
                                  "--", "sh", "-c", command], "alice", self.env)
        h.eventually(lambda: os.path.exists(out) and h.read(out).strip(), 60, "alice's app to start")
        queue, exchange = h.read(out).split()
        self.assertTrue(queue.startswith("mirrord-tmp-"), queue)
        self.assertEqual(exchange, "mirrord-exchange-" + queue)
        self.assertIsNotNone(json.loads(self.client("exchange", exchange)))

        def workload_env():
            return self.daemon.get("/api/v1/workloads")[1]["workloads"][0]["env"]
        patched = workload_env()
        self.assertTrue(patched[VAR].startswith("mirrord-tmp-") and patched[VAR] != queue, patched)
        self.assertEqual(patched["ORDERS_EXCHANGE"], "mirrord-exchange-" + patched[VAR])

        self.assertEqual(alice.wait(timeout=60), 0)
        # Her queue and the exchange her app declared are gone; the workload has its own back.
        h.eventually(lambda: json.loads(self.client("exchange", exchange)) is None, 30,
                     "the dummy exchange to be deleted")
        h.eventually(lambda: workload_env().get("ORDERS_EXCHANGE") == "orders-exchange", 90,
                     "the workload's exchange variable to be restored")
        self.assertEqual(workload_env()[VAR], self.queue)
        h.eventually(lambda: not self.temporaries(), 30, "every temporary queue to be deleted")

    def test_wrong_credentials_and_a_missing_filter_are_named(self):
        self.start_daemon(password="not-the-password")
        self.exec_workload()
        config = self.config("alice", {"author": "^alice$"})
        import subprocess
        run = subprocess.run([h.QSPLIT, "run", "-f", config, "--", "true"], env=dict(os.environ, **self.env),
                             capture_output=True, text=True, timeout=120)
        self.assertNotEqual(run.returncode, 0)
        self.assertIn("spec.queues.orders.clusterProperties rabbitmq-staging", run.stderr)
        self.assertIn("ACCESS_REFUSED - Login was refused", run.stderr)
        self.assertNotIn("not-the-password", run.stderr + self.daemon.log())
        # RMQ needs a message_filter, as in the reference.
        h.write(config, json.dumps({"target": f"deployment/{self.workload}",
                                    "feature": {"split_queues": {"orders": {"queue_type": "RMQ"}}}}))
        run = subprocess.run([h.QSPLIT, "run", "-f", config, "--", "true"], env=dict(os.environ, **self.env),
                             capture_output=True, text=True, timeout=120)
        self.assertNotEqual(run.returncode, 0)
        self.assertIn("orders.message_filter: is required for RMQ queues", run.stderr)
        self.assertEqual(self.daemon.sessions(), [])
        self.assertEqual(self.temporaries(), [])


if __name__ == "__main__":
    unittest.main()
