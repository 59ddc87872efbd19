"""End to end, Kubernetes mode, on a real kube-apiserver (scripts/kube.sh) and a real Redis
(scripts/redis.sh): qsplitd, as the chart's service account, reads a MirrordSplitConfig with a
redisStream (or bullMq) queue from the workload's namespace and its connection from a
MirrordPropertyList in the operator's namespace (one value from a Secret there); it patches the
Deployment's pod template while the queue is split and restores it after. kubectl is the
independent client of the cluster, redis-cli (or the bullmq package) of the server."""
import json
import os
import signal
import unittest

import harness as h
from bullmq_e2e import BullmqClients, consumer, job
from redis_e2e import CLIENT, RedisClients
import kube as k

STREAM_VAR, GROUP_VAR, GROUP = "ORDERS_STREAM", "ORDERS_GROUP", "order-workers"
QUEUE_VAR = "EMAIL_QUEUE"


def deployment_yaml(name, env):
    return k.workload_yaml(name, f"""      - name: main
        image: registry.example/orders:1
        env:
""" + "".join(f"""        - {{name: {n}, value: "{v}"}}\n""" for n, v in env.items()))


def split_config_yaml(name, kind, app_config):
    return f"""apiVersion: queues.mirrord.metalbear.co/v1
kind: MirrordSplitConfig
metadata:
  name: {name}
spec:
  targetRef: {{apiVersion: apps/v1, kind: Deployment, name: {name}}}
  clientConfigs: {{{kind}: redis-staging}}
  queues:
  - id: orders
    kind: {kind}
    appConfig: {app_config}
"""


def property_list_yaml(port):
    return f"""apiVersion: mirrord.metalbear.co/v1
kind: MirrordPropertyList
metadata:
  name: redis-staging
spec:
  properties:
  - {{name: host, value: "127.0.0.1"}}
  - {{name: port, value: "{port}"}}
  - name: db
    valueFrom: {{secretKeyRef: {{name: redis-settings, key: db}}}}
"""


class KubeRedisCluster:
    """A mixin: the namespaces, the Deployment `orders` with `env`, its MirrordSplitConfig, the
    property list with its Secret, and the rollout stand-in."""

    def set_up_cluster(self, env, kind, app_config):
        k.kubeconfig()
        self.dir = h.tempdir(self.id().split(".")[-1])
        self.procs = h.Processes(self.dir)
        self.addCleanup(lambda: self.procs.stop_all())
        k.install_crds()
        self.ns, self.operator_ns = k.namespace("orders"), k.namespace("qsplit")
        self.name = "orders"
        k.apply(deployment_yaml(self.name, env), self.ns)
        k.apply(split_config_yaml(self.name, kind, app_config), self.ns)
        k.apply(property_list_yaml(self.port), self.operator_ns)
        k.kubectl("create", "secret", "generic", "redis-settings", "-n", self.operator_ns, "--from-literal=db=0")
        self.standin = k.RolloutStandIn(self.name, self.ns)
        self.standin.start()
        self.addCleanup(self.standin.stop)
        self.original = k.get("deployment", self.name, self.ns)

    def template_value(self, variable):
        main = k.get("deployment", self.name, self.ns)["spec"]["template"]["spec"]["containers"][0]
        return {e["name"]: e for e in main["env"]}[variable]["value"]

    def start_operator(self, helm_value, redis_config):
        """qsplitd as the chart's service account (the chart rendered with `helm_value`=true)."""
        text, _ = k.helm_template(self.operator_ns, f"{helm_value}=true", f"operator.watchNamespace={self.ns}")
        k.apply(text)
        self.daemon = h.Daemon(self.procs, self.dir, f"""{redis_config}
operator_namespace: {self.operator_ns}
splitting:
  linger_timeout: 20
kubernetes:
  leader_election: false
""", None, args=["--kubeconfig", k.service_account_kubeconfig(self.operator_ns, "qsplit",
                                                                 os.path.join(self.dir, "sa.kubeconfig")),
                 "--namespace", self.ns], data_dir=os.path.join(self.dir, "data")).start()

    def run_alice(self, queue_type, command, env):
        """`qsplit run` of `command` as alice, splitting `orders` by tenant; returns the process."""
        config = h.write(os.path.join(self.dir, "alice.json"), json.dumps({
            "target": f"deployment/{self.name}",
            "feature": {"split_queues": {"orders": {"queue_type": queue_type,
                                                    "message_filter": {"tenant": "^alice$"}}}}}))
        alice = self.procs.start([h.QSPLIT, "run", "-f", config, "--"] + command, "alice", env)
        h.eventually(lambda: [s for s in self.daemon.sessions() if s["state"] != "starting"] or
                     alice.poll() is not None, 120, "alice's session to be ready")
        self.assertIsNone(alice.poll(), h.read(os.path.join(self.dir, "alice.err")))
        return alice

    def end_and_check_restored(self, alice, pod, variable, original_value):
        alice.send_signal(signal.SIGINT)
        self.assertEqual(alice.wait(timeout=60), 0)
        h.eventually(lambda: self.template_value(variable) == original_value, 60, "the template to be restored")
        pod.terminate()
        h.eventually(lambda: not self.daemon.queues(), 90, "the split to end")
        restored = k.get("deployment", self.name, self.ns)
        self.assertEqual(restored["spec"]["template"], self.original["spec"]["template"])
        h.eventually(lambda: not self.temporaries(), 30, "every temporary to be deleted")
        self.assertNotIn("forbidden", self.daemon.log())


class KubeModeRedis(KubeRedisCluster, RedisClients, unittest.TestCase):
    def setUp(self):
        self.port = h.require("QSPLIT_REDIS_PORT")
        self.stream = h.unique("orders:stream")
        self.redis("XGROUP", "CREATE", self.stream, GROUP, "$", "MKSTREAM")
        self.set_up_cluster({STREAM_VAR: self.stream, GROUP_VAR: GROUP}, "redisStream",
                            f"{{stream: [{{env: {STREAM_VAR}}}], group: [{{env: {GROUP_VAR}}}]}}")

    def test_a_stream_is_split_with_its_connection_from_the_cluster(self):
        self.start_operator("operator.redisSplitting", "redis:\n  enabled: true")
        env = {"QSPLIT_SERVER": self.daemon.url, "QSPLIT_REDIS_PORT": self.port, GROUP_VAR: GROUP}
        alice = self.run_alice("RedisStream", ["python3", CLIENT, "consume", STREAM_VAR, GROUP_VAR,
                                               os.path.join(self.dir, "alice.jsonl")], env)
        # The pod template's variable names the fallback stream while split.
        fallback = self.template_value(STREAM_VAR)
        self.assertTrue(fallback.startswith("mirrord-tmp-") and self.stream in fallback, fallback)
        # What the deployed pod runs: the consumer of the template's stream, in its group.
        pod = self.procs.start(["python3", CLIENT, "consume", STREAM_VAR, GROUP_VAR,
                                os.path.join(self.dir, "pod.jsonl")], "pod", dict(env, **{STREAM_VAR: fallback}))
        entries = [{"body": f"m-{i}", "attributes": {"tenant": ["alice", "bob", "carol"][i % 3]}} for i in range(30)]
        self.client("send", self.stream, stdin="".join(json.dumps(e) + "\n" for e in entries))
        names = ["alice", "pod"]
        h.eventually(lambda: all(e["body"] in h.receivers(self.dir, names) for e in entries), 90, "every entry")
        h.assert_at_least_once(self, h.receivers(self.dir, names), {
            e["body"]: "alice" if e["attributes"]["tenant"] == "alice" else "pod" for e in entries})

        self.end_and_check_restored(alice, pod, STREAM_VAR, self.stream)


class KubeModeBullmq(KubeRedisCluster, BullmqClients, unittest.TestCase):
    def setUp(self):
        self.port = h.require("QSPLIT_REDIS_PORT")
        self.queue = h.unique("emails")
        self.set_up_cluster({QUEUE_VAR: self.queue}, "bullMq", f"{{queue: [{{env: {QUEUE_VAR}}}]}}")
        self.node("open", self.queue)

    def test_a_bullmq_queue_is_split_with_its_connection_from_the_cluster(self):
        # Only BullMQ on, as the chart's value turns it on.
        self.start_operator("operator.bullmqSplitting", "redis:\n  enabled: false\n  bullmq: true")
        env = dict(self.node_env(), QSPLIT_SERVER=self.daemon.url)
        alice = self.run_alice("BullMQ", consumer(QUEUE_VAR, os.path.join(self.dir, "alice.jsonl")), env)
        fallback = self.template_value(QUEUE_VAR)
        self.assertTrue(fallback.startswith("mirrord-tmp-") and self.queue in fallback, fallback)
        # What the deployed pod runs: a bullmq Worker of the template's queue.
        pod = self.procs.start(consumer(QUEUE_VAR, os.path.join(self.dir, "pod.jsonl")), "pod",
                               dict(env, **{QUEUE_VAR: fallback}))
        self.add([job(i) for i in range(30)])
        h.eventually(lambda: len(self.seqs("alice")) + len(self.seqs("pod")) >= 30, 90, "every job")
        self.assertEqual(sorted(self.seqs("alice")), list(range(0, 30, 3)))
        self.assertEqual(sorted(self.seqs("pod")), [i for i in range(30) if i % 3])
        self.end_and_check_restored(alice, pod, QUEUE_VAR, self.queue)


if __name__ == "__main__":
    unittest.main()
