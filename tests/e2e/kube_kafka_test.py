"""End to end, Kubernetes mode, on a real kube-apiserver (scripts/kube.sh) and a real Apache
Kafka broker (scripts/kafka.sh), with two qsplitd replicas: both forward the workload's topic,
the partitions spread between them by the workload's consumer group, each in transactions of
its own; only the leader does lifecycle work. kubectl and kcat are the independent clients."""
import os
import signal
import unittest

import harness as h
import kube as k

PARTITIONS = 4


def deployment_yaml(name, topic, group):
    return k.workload_yaml(name, f"""      - name: main
        image: registry.example/views:1
        env:
        - {{name: TOPIC, value: {topic}}}
        - {{name: GROUP, value: {group}}}
""")


class KubeModeKafka(unittest.TestCase):
    def setUp(self):
        k.kubeconfig()
        self.bootstrap = h.require("QSPLIT_KAFKA_BOOTSTRAP")
        self.dir = h.tempdir(self.id().split(".")[-1])
        self.procs = h.Processes(self.dir)
        self.addCleanup(lambda: self.procs.stop_all())
        k.install_crds()
        self.ns = k.namespace("views")
        self.name, self.topic, self.group = "views", h.unique("views"), h.unique("views-group")
        h.topic_tool(self.bootstrap, "create", self.topic, str(PARTITIONS))
        k.apply(deployment_yaml(self.name, self.topic, self.group), self.ns)
        for doc in h.kafka_resources_yaml(self.name, self.bootstrap, "staging").split("---\n"):
            k.apply(doc, self.ns)
        self.standin = k.RolloutStandIn(self.name, self.ns)
        self.standin.start()
        self.addCleanup(self.standin.stop)
        self.original = k.get("deployment", self.name, self.ns)

    def start_daemon(self, name, wait_ready):
        return h.Daemon(self.procs, self.dir, f"""kafka:
  enabled: true
operator_namespace: {self.ns}
splitting:
  linger_timeout: 30
kubernetes:
  lease_duration: 6
""", None, args=["--kubeconfig", k.kubeconfig(), "--namespace", self.ns],
            data_dir=os.path.join(self.dir, name + "-data"), name=name).start(wait_ready)

    def template_env(self):
        main = k.get("deployment", self.name, self.ns)["spec"]["template"]["spec"]["containers"][0]
        return {e["name"]: e["value"] for e in main["env"]}

    def received(self, who):
        return h.kcat_received(os.path.join(self.dir, who + ".out"))

    def read(self, daemon):
        """Records the replica read from the original topic, from its /metrics."""
        _, text = daemon.get("/metrics", raw=True)
        lines = [line for line in text.splitlines()
                 if line.startswith("mirrord_read_sqs_messages_count{") and f'"{self.topic}"' in line]
        return int(lines[0].split()[-1]) if lines else 0

    def test_two_replicas_share_the_partitions_and_forward_each_record_exactly_once(self):
        leader = self.start_daemon("qsplitd", True)
        second = self.start_daemon("second", False)
        h.eventually(lambda: "standing by: the lease is held by" in second.log(), 30, "the standby")
        env = {"QSPLIT_SERVER": leader.url, "BOOT": self.bootstrap}
        config = h.write(os.path.join(self.dir, "alice.json"),
                         h.user_config(self.name, "views", {"author": "^alice$"}).replace('"SQS"', '"Kafka"'))
        alice = self.procs.start([h.QSPLIT, "run", "-f", config, "--"] +
                                 h.kcat_consumer("GROUP", os.path.join(self.dir, "alice.out")), "alice", env)
        h.eventually(lambda: [s for s in leader.sessions() if s["state"] != "starting"], 120,
                     "alice's session to be ready")
        fallback = self.template_env()["TOPIC"]
        self.assertTrue(fallback.startswith("mirrord-tmp-") and self.topic in fallback, fallback)
        # What the deployed pod runs: kcat on the template's topic, in the workload's group.
        pod = self.procs.start(h.kcat_consumer("GROUP", os.path.join(self.dir, "pod.out")), "pod",
                               dict(env, TOPIC=fallback, GROUP=self.group))
        h.eventually(lambda: f"queue={self.topic} forwarded here too" in second.log(), 30,
                     "the second replica to forward")

        # Rounds of records until the second replica reads a share: the workload's group
        # gives it partitions once it joined (a rebalance, which takes a few seconds).
        mine, theirs = [], []

        def produce_round():
            n = len(mine)
            mine.extend(f"a-{i}" for i in range(n, n + 20))
            theirs.extend(f"b-{i}" for i in range(n, n + 20))
            h.kcat_produce(self.bootstrap, self.topic, "alice", mine[n:])
            h.kcat_produce(self.bootstrap, self.topic, "bob", theirs[n:])
            return self.read(second) > 0
        h.eventually(produce_round, 90, "the second replica to read a share of the records")
        h.eventually(lambda: set(mine) <= set(self.received("alice")) and
                     set(theirs) <= set(self.received("pod")), 120, "every record")
        # Exactly once, though two replicas forward: each transaction of its own.
        self.assertEqual(sorted(self.received("alice")), sorted(mine))
        self.assertEqual(sorted(self.received("pod")), sorted(theirs))
        # The leader read a share too: the workload's group spread the partitions.
        self.assertGreater(self.read(leader), 0)

        # A replica that stops leaves the group and removes its record: nothing waits for it.
        second.process.send_signal(signal.SIGTERM)
        self.assertEqual(second.process.wait(timeout=60), 0)
        later = [f"a-late-{i}" for i in range(50)]
        h.kcat_produce(self.bootstrap, self.topic, "alice", later)  # the leader forwards them all
        h.eventually(lambda: set(later) <= set(self.received("alice")), 120, "the later records")
        alice.send_signal(signal.SIGINT)
        self.assertEqual(alice.wait(timeout=120), 0)
        h.eventually(lambda: self.template_env()["TOPIC"] == self.topic, 120, "the template to be restored")
        pod.terminate()
        h.eventually(lambda: not leader.queues(), 120, "the split to end")
        self.assertNotRegex(leader.log(), r"is gone")
        self.assertEqual(k.get("deployment", self.name, self.ns)["spec"]["template"],
                         self.original["spec"]["template"])
        left = [t for t in h.topic_tool(self.bootstrap, "list") if t.startswith("mirrord-") and self.topic in t]
        self.assertEqual(left, [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
