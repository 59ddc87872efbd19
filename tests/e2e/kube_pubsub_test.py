"""End to end, Kubernetes mode, on a real kube-apiserver (scripts/kube.sh) and Google's Pub/Sub
test server (scripts/pubsub.sh): qsplitd, as the service account of the chart rendered with
operator.pubsubSplitting, reads a MirrordSplitConfig with a googlePubSub queue from the workload's
namespace and its connection from a MirrordPropertyList in the operator's namespace, the
service-account key from a Secret there, the project from the workload's own variable. It reaches Pub/Sub as Google's service is reached: over
TLS, each call signed with that key. kubectl is the independent client of the cluster, Google's
Python library of Pub/Sub."""
import json
import os
import signal
import unittest

import harness as h
import kube as k
from local_mode_pubsub_test import PROJECT, VARIABLE, PubsubClients, service_account_key


def split_config_yaml(name):
    return f"""apiVersion: queues.mirrord.metalbear.co/v1
kind: MirrordSplitConfig
metadata:
  name: {name}
spec:
  targetRef: {{apiVersion: apps/v1, kind: Deployment, name: {name}}}
  queues:
  - id: orders
    kind: googlePubSub
    clientConfig: gcp-staging
    appConfig:
      subscription: [{{env: {VARIABLE}}}]
      projectId: [{{env: ORDERS_PROJECT}}]
"""


def property_list_yaml(endpoint):
    return f"""apiVersion: mirrord.metalbear.co/v1
kind: MirrordPropertyList
metadata:
  name: gcp-staging
spec:
  properties:
  - {{name: project_id, value: another-project}}  # the workload's own project wins
  - {{name: endpoint, value: "{endpoint}"}}
  - name: credentials_json
    valueFrom: {{secretKeyRef: {{name: gcp-key, key: key.json}}}}
"""


class KubeModePubsub(PubsubClients, unittest.TestCase):
    def setUp(self):
        self.host = h.require("QSPLIT_PUBSUB_EMULATOR_HOST")
        endpoint, keys = h.require("QSPLIT_PUBSUB_TLS_ENDPOINT"), h.require("QSPLIT_PUBSUB_KEYS")
        k.kubeconfig()
        self.dir = h.tempdir(self.id().split(".")[-1])
        self.procs = h.Processes(self.dir)
        self.addCleanup(lambda: self.procs.stop_all())
        self.env = {"PUBSUB_EMULATOR_HOST": self.host}  # the applications'
        self.subscription = self.name = h.unique("orders")
        self.client("setup", self.subscription, self.subscription, "10")
        key = service_account_key()
        h.write(os.path.join(keys, key["private_key_id"] + ".json"), json.dumps(key))  # granted
        k.install_crds()
        self.ns, self.operator_ns = k.namespace("orders"), k.namespace("qsplit")
        k.apply(k.workload_yaml(self.name, f"""      - name: main
        image: registry.example/orders:1
        env:
        - {{name: {VARIABLE}, value: "{self.subscription}"}}
        - {{name: ORDERS_PROJECT, value: "{PROJECT}"}}
"""), self.ns)
        k.apply(split_config_yaml(self.name), self.ns)
        k.apply(property_list_yaml(endpoint), self.operator_ns)
        k.kubectl("create", "secret", "generic", "gcp-key", "-n", self.operator_ns,
                  "--from-literal=key.json=" + json.dumps(key))
        self.standin = k.RolloutStandIn(self.name, self.ns)
        self.standin.start()
        self.addCleanup(self.standin.stop)
        self.original = k.get("deployment", self.name, self.ns)

    def template_value(self):
        main = k.get("deployment", self.name, self.ns)["spec"]["template"]["spec"]["containers"][0]
        return {e["name"]: e for e in main["env"]}[VARIABLE]["value"]

    def test_a_subscription_is_split_with_a_key_from_a_secret(self):
        text, _ = k.helm_template(self.operator_ns, "operator.pubsubSplitting=true", f"operator.watchNamespace={self.ns}")
        k.apply(text)
        self.daemon = h.Daemon(self.procs, self.dir, f"""operator_namespace: {self.operator_ns}
splitting:
  linger_timeout: 20
kubernetes:
  leader_election: false
""", None, args=["--kubeconfig", k.service_account_kubeconfig(self.operator_ns, "qsplit",
                                                                 os.path.join(self.dir, "sa.kubeconfig")),
                 "--namespace", self.ns], data_dir=os.path.join(self.dir, "data"),
            env={"OPERATOR_GCP_PUBSUB_SPLITTING": "true", "PUBSUB_EMULATOR_HOST": None,
                 "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH": h.require("QSPLIT_PUBSUB_TLS_CA")}).start()
        config = h.write(os.path.join(self.dir, "alice.json"), json.dumps({
            "target": f"deployment/{self.name}",
            "feature": {"split_queues": {"orders": {"queue_type": "GCPPubSub",
                                                    "message_filter": {"tenant": "^alice$"}}}}}))
        env = dict(self.env, QSPLIT_SERVER=self.daemon.url)
        alice = self.procs.start([h.QSPLIT, "run", "-f", config, "--"] + self.consumer("alice"), "alice", env)
        h.eventually(lambda: [s for s in self.daemon.sessions() if s["state"] != "starting"] or
                     alice.poll() is not None, 120, "alice's session to be ready")
        self.assertIsNone(alice.poll(), h.read(os.path.join(self.dir, "alice.err")))
        # The pod template names the fallback subscription while split; the pod reads it.
        fallback = self.template_value()
        self.assertTrue(fallback.startswith("mirrord-tmp-") and self.subscription in fallback, fallback)
        pod = self.procs.start(self.consumer("pod"), "pod", dict(env, **{VARIABLE: fallback}))
        self.publish(30)
        h.eventually(lambda: len(set(self.seqs("alice")) | set(self.seqs("pod"))) == 30, 90, "every message")
        self.assertEqual(sorted(set(self.seqs("alice"))), list(range(0, 30, 3)))
        self.assertEqual(sorted(set(self.seqs("pod"))), [s for s in range(30) if s % 3])

        alice.send_signal(signal.SIGINT)
        self.assertEqual(alice.wait(timeout=60), 0)
        h.eventually(lambda: self.template_value() == self.subscription, 60, "the template to be restored")
        pod.terminate()
        h.eventually(lambda: not self.daemon.queues(), 90, "the split to end")
        self.assertEqual(k.get("deployment", self.name, self.ns)["spec"]["template"], self.original["spec"]["template"])
        h.eventually(lambda: not self.temporaries(), 30, "every temporary topic and subscription to be deleted")
        log = self.daemon.log()
        self.assertNotIn("forbidden", log)
        self.assertNotIn("eyJ", log)  # no token


if __name__ == "__main__":
    unittest.main()
