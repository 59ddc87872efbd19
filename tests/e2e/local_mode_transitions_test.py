"""End to end, local mode, on ElasticMQ and Apache Kafka: a deployed workload that reads two SQS
queues and a Kafka topic is restarted once when its queues are split and once when they are
restored, however many queues and developers; `drainTimeout: 0` restores at once; and qsplitd
killed with -9 in the middle of a start or between two queues' drains leaves the workload
restored once and nothing behind.

The workload's command writes one line per start (the queue names it was given), so the test
counts restarts as its owner would: in the command's own output."""
import json
import os
import signal
import socket
import subprocess
import sys
import unittest

import harness as h
from harness import topic_tool

VARS = ["ORDERS", "PAYMENTS", "TOPIC"]


def two_queues_yaml(workload, spec_extra=""):
    """A MirrordSplitConfig: deployment `workload` reads queue ids orders and payments."""
    return f"""apiVersion: queues.mirrord.metalbear.co/v1
kind: MirrordSplitConfig
metadata: {{name: {workload}}}
spec:
  targetRef: {{apiVersion: apps/v1, kind: Deployment, name: {workload}}}
{spec_extra}  queues:
  - id: orders
    kind: sqs
    appConfig:
      queue: [{{env: ORDERS, containers: [main]}}]
  - id: payments
    kind: sqs
    appConfig:
      queue: [{{env: PAYMENTS, containers: [main]}}]
"""


def registry_yaml(workload):
    """The legacy registry of the same two queues."""
    return f"""apiVersion: queues.mirrord.metalbear.co/v1alpha
kind: MirrordWorkloadQueueRegistry
metadata: {{name: {workload}-registry}}
spec:
  queues:
    orders: {{queueType: SQS, nameSource: {{envVar: ORDERS}}}}
    payments: {{queueType: SQS, nameSource: {{envVar: PAYMENTS}}}}
  consumer: {{name: {workload}, container: main, workloadType: Deployment}}
"""


class Transitions(unittest.TestCase):
    LINGER = 300  # qsplitd's linger timeout: longer than any wait below

    def start(self, resources_yaml, kafka=False, endpoint=None):
        self.endpoint, self.sqs = h.elasticmq(self)
        if endpoint:  # another SQS server than the suite's ElasticMQ
            import boto3
            self.endpoint = os.environ["QSPLIT_SQS_TEST_ENDPOINT"] = endpoint
            self.sqs = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1")
        self.workload = h.unique("shop")
        self.queues = {v: h.unique(v.lower()) for v in ("ORDERS", "PAYMENTS")}
        self.urls = {v: self.sqs.create_queue(QueueName=q)["QueueUrl"] for v, q in self.queues.items()}
        resources = os.path.join(self.dir, "resources")
        os.makedirs(resources)
        h.write(os.path.join(resources, "split.yaml"), resources_yaml(self.workload))
        self.env = {"QSPLIT_SERVER": None, "ORDERS": self.queues["ORDERS"],
                    "PAYMENTS": self.queues["PAYMENTS"], "TOPIC": "", "GROUP": ""}
        kafka_config = ""
        if kafka:
            self.bootstrap = h.require("QSPLIT_KAFKA_BOOTSTRAP")
            self.env["TOPIC"] = h.unique("views")
            self.env["GROUP"] = h.unique("views-group")
            topic_tool(self.bootstrap, "create", self.env["TOPIC"], "2")
            h.write(os.path.join(resources, "topics.yaml"),
                    h.kafka_resources_yaml(self.workload, self.bootstrap, "local", "mirrord"))
            kafka_config = "kafka: {enabled: true}\n"
        self.daemon = h.Daemon(self.procs, self.dir, f"""sqs:
  endpoint: {self.endpoint}
  pollers: 1
{kafka_config}sessions:
  unused_ttl: 6
splitting:
  linger_timeout: {self.LINGER}
""", resources).start()
        self.env["QSPLIT_SERVER"] = self.daemon.url

    def exec_workload(self, reads="ORDERS,PAYMENTS"):
        """The deployed command: logs the names it was started with, then consumes `reads`."""
        starts = os.path.join(self.dir, "starts.txt")
        log = " ".join(f"${v}" for v in VARS)
        command = ["sh", "-c", f'echo "{log}" >> {starts}; exec python3 {h.CONSUMER} {reads} '
                                f'{os.path.join(self.dir, "workload.jsonl")}']
        return h.exec_workload(self.procs, self.daemon, self.env, self.workload, command)

    def starts(self):
        """The names the workload's command got, one list per start."""
        path = os.path.join(self.dir, "starts.txt")
        return [line.split() for line in h.read(path).splitlines()] if os.path.exists(path) else []

    def original(self):
        return [self.env[v] for v in VARS if self.env[v]]

    def user_config(self, author, kafka=False):
        entry = {"queue_type": "SQS", "message_filter": {"author": author}}
        splits = {"orders": entry, "payments": entry}
        if kafka:
            splits["views"] = dict(entry, queue_type="Kafka")
        return json.dumps({"target": f"deployment/{self.workload}", "feature": {"split_queues": splits}})

    def run_developer(self, name, author, kafka=False):
        config = h.write(os.path.join(self.dir, name + ".json"), self.user_config(author, kafka))
        out = os.path.join(self.dir, name + ".jsonl")
        before = {s["id"] for s in self.daemon.sessions()}
        p = self.procs.start([h.QSPLIT, "run", "-f", config, "--", "python3", h.CONSUMER,
                              "ORDERS,PAYMENTS", out], name, self.env)
        h.eventually(lambda: [s for s in self.daemon.sessions()
                              if s["id"] not in before and s["state"] != "starting"],
                     120, f"{name}'s session to be ready")
        self.live = len(before) + 1
        return p

    def end(self, p):
        p.send_signal(signal.SIGINT)  # as Ctrl-C: `qsplit run` ends the session
        p.wait(timeout=120)  # with the command's status (SIGINT may reach it before its handler)
        h.eventually(lambda: len(self.daemon.sessions()) < self.live, 30, "the session to end")
        self.live -= 1

    def send(self, var, body, author):
        self.sqs.send_message(QueueUrl=self.urls[var], MessageBody=body, MessageAttributes={
            "author": {"DataType": "String", "StringValue": author}})

    def receive_all(self, var):
        answer = self.sqs.receive_message(QueueUrl=self.urls[var], MaxNumberOfMessages=10,
                                          WaitTimeSeconds=2)
        return [m["Body"] for m in answer.get("Messages", [])]

    def fallback_backlog(self, var):
        status, body = self.daemon.get("/api/v1/queues")
        return sum(q["fallback_backlog"] or 0 for q in body["queues"]
                   if q["original"] == self.queues[var])

    def temporaries(self):
        urls = self.sqs.list_queues(QueueNamePrefix="mirrord-").get("QueueUrls", [])
        return [u for u in urls if self.workload in u or any(q in u for q in self.queues.values())]

    def wait_restored(self):
        h.eventually(lambda: not self.daemon.queues(), 120, "every split to be restored")
        h.eventually(lambda: self.starts()[-1] == self.original(), 60,
                     "the workload to read its queues again")


class LocalModeTransitions(Transitions):
    def test_two_queues_and_a_topic_restart_the_workload_once_per_transition(self):
        self.start(registry_yaml, kafka=True)
        self.exec_workload()
        h.eventually(lambda: len(self.starts()) == 1, 30, "the workload to start")
        alice = self.run_developer("alice", "^alice$", kafka=True)
        bob = self.run_developer("bob", "^bob$", kafka=True)
        # One restart for the three queues of alice's start; none for bob's.
        starts = self.starts()
        self.assertEqual(len(starts), 2, starts)
        self.assertTrue(all(name.startswith("mirrord-tmp-") for name in starts[1]), starts)
        self.assertEqual(len(set(starts[1])), 3, starts)

        self.send("PAYMENTS", "for-bob", "bob")
        self.send("ORDERS", "for-the-workload", "carol")
        got = h.eventually(lambda: (lambda r: r if {"for-bob", "for-the-workload"} <= set(r) else None)(
            h.receivers(self.dir, ["alice", "bob", "workload"])), 90, "both messages to arrive")
        h.assert_at_least_once(self, got, {"for-bob": "bob", "for-the-workload": "workload"})

        self.end(alice)
        self.end(bob)
        self.wait_restored()
        starts = self.starts()
        self.assertEqual(len(starts), 3, starts)  # one restore for the three
        self.assertEqual(starts[0], starts[2])
        self.assertEqual(self.temporaries(), [])
        self.assertEqual([t for t in topic_tool(self.bootstrap, "list") if self.env["TOPIC"] in t
                          and t != self.env["TOPIC"]], [])

    def test_drain_timeout_zero_restores_at_once_with_the_fallbacks_messages_back(self):
        self.start(lambda w: two_queues_yaml(w, "  drainTimeout: 0\n"))
        self.exec_workload(reads="ORDERS")  # nobody reads payments' fallback
        alice = self.run_developer("alice", "^alice$")
        self.send("PAYMENTS", "for-the-workload", "carol")
        h.eventually(lambda: self.fallback_backlog("PAYMENTS"),
            60, "the message to wait in payments' fallback")
        self.end(alice)
        # qsplitd's linger (300 s) would keep the workload patched; drainTimeout 0 does not.
        self.wait_restored()
        self.assertEqual(len(self.starts()), 3, self.starts())
        self.assertEqual(self.receive_all("PAYMENTS"), ["for-the-workload"])
        self.assertEqual(self.temporaries(), [])

    def test_a_session_started_within_the_ttl_restarts_nothing(self):
        self.start(lambda w: two_queues_yaml(w, "  ttl: 15\n  drainTimeout: 0\n"))
        self.exec_workload()
        alice = self.run_developer("alice", "^alice$")
        self.end(alice)
        # The split goes on: the workload stays patched and gets everything meanwhile.
        self.assertEqual([q["state"] for q in self.daemon.queues()], ["splitting", "splitting"])
        self.send("ORDERS", "while-nobody-splits", "alice")
        h.eventually(lambda: "while-nobody-splits" in h.receivers(self.dir, ["workload"]), 60,
                     "the message to reach the workload")
        again = self.run_developer("alice-again", "^alice$")  # `qsplit run` once more
        self.assertEqual(len(self.starts()), 2, self.starts())  # no restart
        self.send("ORDERS", "hers-again", "alice")
        h.eventually(lambda: "hers-again" in h.receivers(self.dir, ["alice-again"]), 60,
                     "her message to reach her")
        self.end(again)
        self.wait_restored()  # the ttl passes, then the drain (0) and the one restore
        self.assertEqual(len(self.starts()), 3, self.starts())
        self.assertEqual(self.temporaries(), [])

    def test_kill9_while_the_start_waits_for_the_restart_undoes_it(self):
        self.start(registry_yaml)
        exec_process = self.exec_workload()
        h.eventually(lambda: len(self.starts()) == 1, 30, "the workload to start")
        self.send("ORDERS", "early", "carol")
        exec_process.send_signal(signal.SIGSTOP)  # the patched command cannot restart yet
        config = h.write(os.path.join(self.dir, "alice.json"), self.user_config("^alice$"))
        alice = self.procs.start([h.QSPLIT, "run", "-f", config, "--", "sleep", "600"], "alice", self.env)
        h.eventually(lambda: "patching" in self.daemon.log(), 60, "qsplitd to patch the workload")
        self.daemon.kill9()  # the fallbacks exist and the patch is written: the start is mid-way
        self.assertNotEqual(alice.wait(timeout=60), 0)
        exec_process.send_signal(signal.SIGCONT)
        self.daemon.start()
        self.assertEqual(self.daemon.sessions(), [])
        self.wait_restored()
        self.assertEqual(self.temporaries(), [])
        got = h.eventually(lambda: (lambda r: r if "early" in r else None)(
            h.receivers(self.dir, ["workload"])), 60, "the early message to reach the workload")
        h.assert_at_least_once(self, got, {"early": "workload"})

    def test_kill9_between_two_queues_drains_restores_the_workload_once(self):
        self.start(lambda w: two_queues_yaml(w, "  drainTimeout: 20\n"))
        self.exec_workload(reads="ORDERS")  # payments' fallback keeps its message: a long drain
        alice = self.run_developer("alice", "^alice$")
        self.send("PAYMENTS", "left-over", "carol")
        h.eventually(lambda: self.fallback_backlog("PAYMENTS"),
            60, "the message to wait in payments' fallback")
        self.end(alice)
        # orders' drain is over, payments' is not: the workload stays patched for both.
        h.eventually(lambda: all(q["state"] == "draining" for q in self.daemon.queues()), 30,
                     "both queues to drain")
        self.assertEqual(len(self.starts()), 2, self.starts())
        self.daemon.kill9()
        self.daemon.start()
        self.wait_restored()  # the drain limit passes after the restart
        starts = self.starts()
        self.assertEqual(len(starts), 3, starts)
        self.assertEqual(self.receive_all("PAYMENTS"), ["left-over"])
        self.assertEqual(self.temporaries(), [])


class StopWithTheBrokerGone(Transitions):
    """A moto server of the test's own, so that the test can take it away."""

    def moto(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        workdir = h.tempdir("moto")
        with open(os.path.join(workdir, "moto.log"), "ab") as log:
            moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p",
                                     str(port)], stdout=log, stderr=log)
        self.addCleanup(lambda: moto.poll() is None and (moto.kill(), moto.wait()))
        endpoint = f"http://127.0.0.1:{port}"

        def answers():
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return True
            except OSError:
                return moto.poll() is not None
        h.eventually(answers, 60, "moto to listen")
        self.assertIsNone(moto.poll(), h.read(os.path.join(workdir, "moto.log")))
        return moto, endpoint

    def test_a_stop_takes_seconds_with_the_sqs_server_gone(self):
        moto, endpoint = self.moto()
        self.start(registry_yaml, endpoint=endpoint)
        self.exec_workload()
        developers = [self.run_developer(name, f"^{name}$") for name in ("alice", "bob")]
        for p in developers:  # their clients die: the sessions expire, and each end needs moto
            p.kill()
            p.wait()
        moto.kill()
        moto.wait()
        h.eventually(lambda: "expired" in self.daemon.log(), 60, "a session to expire")
        self.daemon.process.send_signal(signal.SIGTERM)
        # Ending the sessions would retry the unreachable queues for minutes; a stop does not.
        self.assertEqual(self.daemon.process.wait(timeout=60), 0, self.daemon.log())
        self.assertRegex(self.daemon.log(),
                         r"stopping: sessions stay stored|still stopping 10 s after the signal")


if __name__ == "__main__":
    unittest.main()
