"""End to end, Kubernetes mode, on a real kube-apiserver (scripts/kube.sh) and a real RabbitMQ
(scripts/rabbitmq.sh): qsplitd reads the queue registry from the workload's namespace and the
connection from a MirrordPropertyList in the operator's namespace, whose password is in a
Secret there; it patches the Deployment's pod template while the queue is split and restores
it after. kubectl is the independent client of the cluster, pika of the broker."""
import json
import os
import signal
import subprocess
import unittest
import urllib.parse

import harness as h
import kube as k

VAR = "INCOMING_ORDERS_QUEUE"
CLIENT = os.path.join(h.SOURCE, "tests/support/rabbitmq_client.py")


def deployment_yaml(name, queue):
    return k.workload_yaml(name, f"""      - name: main
        image: registry.example/orders:1
        env:
        - {{name: {VAR}, value: {queue}}}
""")


def property_list_yaml(url, secret="rabbitmq-credentials"):
    parsed = urllib.parse.urlparse(url)
    return f"""apiVersion: mirrord.metalbear.co/v1
kind: MirrordPropertyList
metadata:
  name: rabbitmq-staging
spec:
  properties:
  - {{name: host, value: "{parsed.hostname}"}}
  - {{name: port, value: "{parsed.port}"}}
  propertiesFrom:
  - configMapRef: {{name: rabbitmq-user}}
  - secretRef: {{name: {secret}}}
"""


class KubeModeRabbitMq(unittest.TestCase):
    def setUp(self):
        k.kubeconfig()
        self.url = h.require("QSPLIT_RABBITMQ_URL")
        h.require("QSPLIT_RABBITMQ_MANAGEMENT")
        self.dir = h.tempdir(self.id().split(".")[-1])
        self.procs = h.Processes(self.dir)
        self.addCleanup(lambda: self.procs.stop_all())
        k.install_crds()
        self.ns, self.operator_ns = k.namespace("orders"), k.namespace("qsplit")
        self.name, self.queue = "orders", h.unique("orders-queue")
        self.client("declare", self.queue)
        k.apply(deployment_yaml(self.name, self.queue), self.ns)
        k.apply(h.registry_yaml(self.name, "orders", VAR, queue_type="RMQ",
                                extra="      clusterProperties: rabbitmq-staging\n"), self.ns)
        # The connection: host and port literal, the user from a ConfigMap, the password
        # from a Secret, all in the operator's namespace (looked up after the workload's).
        k.kubectl("create", "configmap", "rabbitmq-user", "-n", self.operator_ns, "--from-literal=username=guest")
        self.standin = k.RolloutStandIn(self.name, self.ns)
        self.standin.start()
        self.addCleanup(self.standin.stop)
        self.original = k.get("deployment", self.name, self.ns)

    def client(self, *args, stdin=None):
        done = subprocess.run(["python3", CLIENT] + list(args), input=stdin, text=True,
                              capture_output=True, timeout=120)
        self.assertEqual(done.returncode, 0, done.stderr)
        return done.stdout

    def add_secret(self):
        k.kubectl("create", "secret", "generic", "rabbitmq-credentials", "-n", self.operator_ns,
                  "--from-literal=password=guest")

    def start_daemon(self, kubeconfig=None):
        self.daemon = h.Daemon(self.procs, self.dir, f"""rabbitmq:
  enabled: true
operator_namespace: {self.operator_ns}
splitting:
  linger_timeout: 20
kubernetes:
  leader_election: false
""", None, args=["--kubeconfig", kubeconfig or k.kubeconfig(), "--namespace", self.ns],
            data_dir=os.path.join(self.dir, "data")).start()

    def config(self, who, message_filter):
        return h.write(os.path.join(self.dir, who + ".json"), json.dumps({
            "target": f"deployment/{self.name}",
            "feature": {"split_queues": {"orders": {"queue_type": "RMQ", "message_filter": message_filter}}}}))

    def run_developer(self, who, message_filter):
        command = ["python3", CLIENT, "consume", VAR, os.path.join(self.dir, who + ".jsonl")]
        p = self.procs.start([h.QSPLIT, "run", "-f", self.config(who, message_filter), "--"] + command,
                             who, {"QSPLIT_SERVER": self.daemon.url})
        h.eventually(lambda: [s for s in self.daemon.sessions() if s["state"] != "starting"]
                     or p.poll() is not None, 120, f"{who}'s session to be ready")
        self.assertIsNone(p.poll(), h.read(os.path.join(self.dir, who + ".err")))
        return p

    def template_value(self):
        main = k.get("deployment", self.name, self.ns)["spec"]["template"]["spec"]["containers"][0]
        return {e["name"]: e for e in main["env"]}[VAR]["value"]

    def receivers(self, names):
        return h.receivers(self.dir, names)

    def temporaries(self):
        return [q for q in self.client("list").split() if q.startswith("mirrord-tmp-") and self.queue in q]

    def test_the_connection_comes_from_a_property_list_and_its_secret_in_the_cluster(self):
        self.add_secret()
        k.apply(property_list_yaml(self.url), self.operator_ns)
        # qsplitd runs as the chart's service account: its RBAC allows all this needs.
        text, _ = k.helm_template(self.operator_ns, "operator.rabbitmqSplitting=true",
                                  f"operator.watchNamespace={self.ns}")
        k.apply(text)
        self.start_daemon(k.service_account_kubeconfig(self.operator_ns, "qsplit",
                                                       os.path.join(self.dir, "sa.kubeconfig")))
        alice = self.run_developer("alice", {"author": "^alice$"})
        # The pod template's variable names the fallback queue while split.
        fallback = self.template_value()
        self.assertTrue(fallback.startswith("mirrord-tmp-") and self.queue in fallback, fallback)
        labels = k.get("deployment", self.name, self.ns)["metadata"]["labels"]
        self.assertEqual(labels["operator.metalbear.co/patched"], "true")
        # What the deployed pod runs: the consumer of the template's queue.
        pod = self.procs.start(["python3", CLIENT, "consume", VAR, os.path.join(self.dir, "pod.jsonl")],
                               "pod", {VAR: fallback})
        messages = [{"body": f"m-{i}", "headers": {"author": ["alice", "bob", "carol"][i % 3], "seq": i}}
                    for i in range(30)]
        self.client("send", self.queue, stdin="".join(json.dumps(m) + "\n" for m in messages))
        names = ["alice", "pod"]
        h.eventually(lambda: all(m["body"] in self.receivers(names) for m in messages), 90, "every message")
        h.assert_at_least_once(self, self.receivers(names), {
            m["body"]: "alice" if m["headers"]["author"] == "alice" else "pod" for m in messages})
        got = h.copies(self.dir, names)
        for m in messages:
            for _, received in got[m["body"]]:
                self.assertEqual(received["attributes"], {"author": m["headers"]["author"],
                                                          "seq": str(m["headers"]["seq"])}, m)

        alice.send_signal(signal.SIGINT)
        self.assertEqual(alice.wait(timeout=60), 0)
        # The template names the original again; its rollout replaces the pod, and then the
        # empty fallback queue, without a consumer, is deleted.
        h.eventually(lambda: self.template_value() == self.queue, 60, "the template to be restored")
        pod.terminate()
        h.eventually(lambda: not self.daemon.queues(), 90, "the split to end")
        restored = k.get("deployment", self.name, self.ns)
        self.assertEqual(restored["spec"]["template"], self.original["spec"]["template"])
        self.assertNotIn("operator.metalbear.co/patched", restored["metadata"].get("labels", {}))
        h.eventually(lambda: not self.temporaries(), 30, "every temporary queue to be deleted")
        self.assertNotIn("forbidden", self.daemon.log())

    def test_a_missing_secret_is_named_and_read_once_it_exists_without_a_restart(self):
        # The API server refuses a property with neither a value nor a source.
        code, _, err = k.apply("""apiVersion: mirrord.metalbear.co/v1
kind: MirrordPropertyList
metadata: {name: bad}
spec:
  properties: [{name: host}]
""", self.operator_ns, check=False)
        self.assertNotEqual(code, 0)
        self.assertIn("spec.properties[0]", err)
        k.apply(property_list_yaml(self.url), self.operator_ns)
        self.start_daemon()

        def start(who):
            return subprocess.run([h.QSPLIT, "run", "-f", self.config(who, {"author": "^a$"}), "--", "true"],
                                  env=dict(os.environ, QSPLIT_SERVER=self.daemon.url),
                                  capture_output=True, text=True, timeout=120)
        run = start("alice")
        self.assertNotEqual(run.returncode, 0)
        self.assertIn("spec.queues.orders.clusterProperties", run.stderr)
        self.assertIn(f"MirrordPropertyList rabbitmq-staging: spec.propertiesFrom[1]: Secret "
                      f"'rabbitmq-credentials' in namespace '{self.operator_ns}' not found", run.stderr)
        self.assertEqual(self.daemon.sessions(), [])
        self.assertRegex(self.daemon.log(), r"a session of local was refused: .*Secret 'rabbitmq-credentials'")
        self.assertEqual(self.template_value(), self.queue)
        # Secrets are not watched: qsplitd reads them again within 30 s.
        self.add_secret()
        h.eventually(lambda: start("bob").returncode == 0, 60, "a session once the Secret exists")

    def test_a_patched_pod_that_never_gets_ready_fails_the_start_and_restores_the_template(self):
        self.standin.stop()
        self.standin = k.RolloutStandIn(self.name, self.ns, ready=False)
        self.standin.start()
        self.addCleanup(self.standin.stop)
        k.apply(h.registry_yaml(self.name, "orders", VAR, queue_type="RMQ",
                                extra="      clusterProperties: rabbitmq-staging\n")
                .replace("  consumer:", "  workloadRestartTimeout: 5\n  consumer:"), self.ns)
        self.add_secret()
        k.apply(property_list_yaml(self.url), self.operator_ns)
        self.start_daemon()
        run = subprocess.run([h.QSPLIT, "run", "-f", self.config("alice", {"author": "^a$"}), "--", "true"],
                             env=dict(os.environ, QSPLIT_SERVER=self.daemon.url),
                             capture_output=True, text=True, timeout=120)
        self.assertNotEqual(run.returncode, 0)
        self.assertRegex(run.stderr, r"workload deployment/orders: no pod of the patched template became "
                                     r"ready within 5 s \(1 pods with the template's variables, none ready")
        self.assertEqual(self.daemon.sessions(), [])
        h.eventually(lambda: self.template_value() == self.queue, 60, "the template to be restored")
        h.eventually(lambda: not self.daemon.queues(), 90, "the split to end")
        h.eventually(lambda: not self.temporaries(), 30, "every temporary queue to be deleted")


if __name__ == "__main__":
    unittest.main()
