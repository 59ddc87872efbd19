"""End to end, Kubernetes mode, on a real kube-apiserver (scripts/kube.sh) and a real Redis
(scripts/redis.sh): qsplitd, as the chart's service account, reads a MirrordSplitConfig with a
redisStream queue from the workload's namespace and its connection from a MirrordPropertyList
in the operator's namespace (one value from a Secret there); it patches the Deployment's pod
template while the stream is split and restores it after. kubectl is the independent client of
the cluster, redis-cli of the server."""
import json
import os
import signal
import unittest

import harness as h
from redis_e2e import CLIENT, RedisClients
import kube as k

STREAM_VAR, GROUP_VAR, GROUP = "ORDERS_STREAM", "ORDERS_GROUP", "order-workers"


def deployment_yaml(name, stream):
    return k.workload_yaml(name, f"""      - name: main
        image: registry.example/orders:1
        env:
        - {{name: {STREAM_VAR}, value: "{stream}"}}
        - {{name: {GROUP_VAR}, value: {GROUP}}}
""")


def split_config_yaml(name):
    return f"""apiVersion: queues.mirrord.metalbear.co/v1
kind: MirrordSplitConfig
metadata:
  name: {name}
spec:
  targetRef: {{apiVersion: apps/v1, kind: Deployment, name: {name}}}
  clientConfigs: {{redisStream: redis-staging}}
  queues:
  - id: orders
    kind: redisStream
    appConfig:
      stream: [{{env: {STREAM_VAR}}}]
      group: [{{env: {GROUP_VAR}}}]
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


class KubeModeRedis(RedisClients, unittest.TestCase):
    def setUp(self):
        k.kubeconfig()
        self.port = h.require("QSPLIT_REDIS_PORT")
        self.dir = h.tempdir(self.id().split(".")[-1])
        self.procs = h.Processes(self.dir)
        self.addCleanup(lambda: self.procs.stop_all())
        k.install_crds()
        self.ns, self.operator_ns = k.namespace("orders"), k.namespace("qsplit")
        self.name, self.stream = "orders", h.unique("orders:stream")
        self.redis("XGROUP", "CREATE", self.stream, GROUP, "$", "MKSTREAM")
        k.apply(deployment_yaml(self.name, self.stream), self.ns)
        k.apply(split_config_yaml(self.name), self.ns)
        k.apply(property_list_yaml(self.port), self.operator_ns)
        k.kubectl("create", "secret", "generic", "redis-settings", "-n", self.operator_ns, "--from-literal=db=0")
        self.standin = k.RolloutStandIn(self.name, self.ns)
        self.standin.start()
        self.addCleanup(self.standin.stop)
        self.original = k.get("deployment", self.name, self.ns)

    def template_value(self):
        main = k.get("deployment", self.name, self.ns)["spec"]["template"]["spec"]["containers"][0]
        return {e["name"]: e for e in main["env"]}[STREAM_VAR]["value"]

    def test_a_stream_is_split_with_its_connection_from_the_cluster(self):
        text, _ = k.helm_template(self.operator_ns, "operator.redisSplitting=true", f"operator.watchNamespace={self.ns}")
        k.apply(text)
        self.daemon = h.Daemon(self.procs, self.dir, f"""redis:
  enabled: true
operator_namespace: {self.operator_ns}
splitting:
  linger_timeout: 20
kubernetes:
  leader_election: false
""", None, args=["--kubeconfig", k.service_account_kubeconfig(self.operator_ns, "qsplit",
                                                                 os.path.join(self.dir, "sa.kubeconfig")),
                 "--namespace", self.ns], data_dir=os.path.join(self.dir, "data")).start()
        env = {"QSPLIT_SERVER": self.daemon.url, "QSPLIT_REDIS_PORT": self.port, GROUP_VAR: GROUP}
        config = h.write(os.path.join(self.dir, "alice.json"), json.dumps({
            "target": f"deployment/{self.name}",
            "feature": {"split_queues": {"orders": {"queue_type": "RedisStream",
                                                    "message_filter": {"tenant": "^alice$"}}}}}))
        alice = self.procs.start([h.QSPLIT, "run", "-f", config, "--", "python3", CLIENT, "consume", STREAM_VAR,
                                  GROUP_VAR, os.path.join(self.dir, "alice.jsonl")], "alice", env)
        h.eventually(lambda: [s for s in self.daemon.sessions() if s["state"] != "starting"] or
                     alice.poll() is not None, 120, "alice's session to be ready")
        self.assertIsNone(alice.poll(), h.read(os.path.join(self.dir, "alice.err")))
        # The pod template's variable names the fallback stream while split.
        fallback = self.template_value()
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

        alice.send_signal(signal.SIGINT)
        self.assertEqual(alice.wait(timeout=60), 0)
        h.eventually(lambda: self.template_value() == self.stream, 60, "the template to be restored")
        pod.terminate()
        h.eventually(lambda: not self.daemon.queues(), 90, "the split to end")
        restored = k.get("deployment", self.name, self.ns)
        self.assertEqual(restored["spec"]["template"], self.original["spec"]["template"])
        h.eventually(lambda: not self.temporaries(), 30, "every temporary stream to be deleted")
        self.assertNotIn("forbidden", self.daemon.log())


if __name__ == "__main__":
    unittest.main()
