"""End to end, local mode, on Google's Pub/Sub test server (pstest, scripts/pubsub.sh) with Google's
Python library as every application: a MirrordSplitConfig with a googlePubSub queue, the deployed
workload a streaming-pull subscriber under `qsplit exec` (restarted on each patch as a rollout
would), developers' subscribers under `qsplit run`, and a publisher all the while. Each message
reaches the subscriber its filters name (message_filter on attributes, jq_filter on the
PubsubMessage document); an ended session's unread messages go back to be routed again; nothing is
lost through the patch, the restore or a kill -9 of qsplitd; no temporary topic or subscription
is left."""
import json
import os
import signal
import subprocess
import time
import unittest
import warnings

import harness as h

warnings.filterwarnings("ignore")  # the library's notices about Python versions
from google.cloud import pubsub_v1  # noqa: E402

CLIENT = os.path.join(h.SOURCE, "tests/support/pubsub_client.py")
PROJECT = "qsplit-e2e"
VARIABLE = "ORDERS_SUBSCRIPTION"


def message(seq):
    """Message `seq`: tenant alice, bob or carol in turn, kind order or refund every three."""
    tenant, kind = ["alice", "bob", "carol"][seq % 3], ["order", "refund"][seq // 3 % 2]
    return json.dumps({"seq": seq, "tenant": tenant, "kind": kind}).encode(), {"tenant": tenant, "kind": kind}


def resources_yaml(workload, host, queue_config=""):
    return f"""apiVersion: queues.mirrord.metalbear.co/v1
kind: MirrordSplitConfig
metadata:
  name: {workload}
spec:
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {workload}
  clientConfigs:
    googlePubSub: gcp-staging
  queues:
  - id: orders
    kind: googlePubSub{queue_config}
    appConfig:
      subscription:
      - env: {VARIABLE}
---
apiVersion: mirrord.metalbear.co/v1
kind: MirrordPropertyList
metadata:
  name: gcp-staging
spec:
  properties:
    - name: project_id
      value: {PROJECT}
    - name: emulator_host
      value: "{host}"
"""


def publisher(host, topic):
    """Google's publisher: 20 numbered messages every 100 ms until stopped."""
    os.environ["PUBSUB_EMULATOR_HOST"] = host
    client = pubsub_v1.PublisherClient()
    path = client.topic_path(PROJECT, topic)

    def publish(seqs):
        futures = [client.publish(path, data, **attributes) for data, attributes in map(message, seqs)]
        for f in futures:
            f.result(timeout=60)
    return h.Producer(publish, every=0.1)


class PubsubClients:
    """A mixin: Google's client as the tests' applications (self.env, self.dir and
    self.subscription set), and the views of what each subscriber got."""

    def client(self, *args):
        done = subprocess.run(["python3", CLIENT, PROJECT] + list(args), capture_output=True, text=True,
                              env=dict(os.environ, **self.env), timeout=120)
        self.assertEqual(done.returncode, 0, done.stderr)
        return done.stdout.splitlines()

    def consumer(self, who):
        return ["python3", CLIENT, PROJECT, "consume", VARIABLE, os.path.join(self.dir, who + ".jsonl")]

    def publish(self, count):
        """Messages 0 to count-1 published to the team's topic, as message() makes them."""
        done = subprocess.run(["python3", CLIENT, PROJECT, "publish", self.subscription], text=True,
                              input="".join(json.dumps({"data": message(s)[0].decode(), "attributes": message(s)[1]})
                                            + "\n" for s in range(count)),
                              env=dict(os.environ, **self.env), capture_output=True, timeout=120)
        self.assertEqual(done.returncode, 0, done.stderr)

    def seqs(self, who):
        path = os.path.join(self.dir, who + ".jsonl")
        return [json.loads(m["data"])["seq"] for m in h.read_jsonl(path)] if os.path.exists(path) else []

    def received(self):
        """seq -> every subscriber that received it (a list: one received twice shows twice)."""
        return h.received_by(self.seqs)

    def temporaries(self):
        return [line for line in self.client("list") if "mirrord-tmp-" in line and self.subscription in line]


class PubsubSplit(PubsubClients):
    """A mixin: the team's topic and subscription, qsplitd with its MirrordSplitConfig, and the
    deployed workload under `qsplit exec`."""

    def setUp(self):
        self.host = h.require("QSPLIT_PUBSUB_EMULATOR_HOST")
        self.dir = h.tempdir(self.id().split(".")[-1])
        self.procs = h.Processes(self.dir)
        self.addCleanup(lambda: self.procs.stop_all())
        self.workload = h.unique("orders-app")
        self.subscription = h.unique("orders")
        self.env = {"PUBSUB_EMULATOR_HOST": self.host}
        self.client("setup", self.subscription, self.subscription, "10")  # the team's topic and subscription
        self.resources = os.path.join(self.dir, "resources", "orders.yaml")
        os.makedirs(os.path.dirname(self.resources), exist_ok=True)
        h.write(self.resources, resources_yaml(self.workload, self.host))
        self.start_daemon("pubsub:\n  enabled: true\n")

    def start_daemon(self, config):
        self.daemon = h.Daemon(self.procs, self.dir, config, os.path.dirname(self.resources)).start()
        self.env["QSPLIT_SERVER"] = self.daemon.url
        h.exec_workload(self.procs, self.daemon, dict(self.env, **{VARIABLE: self.subscription}), self.workload,
                        self.consumer("workload"))

    def run_developer(self, name, split):
        config = h.write(os.path.join(self.dir, name + ".json"), json.dumps({
            "target": f"deployment/{self.workload}",
            "feature": {"split_queues": {"orders": dict({"queue_type": "GCPPubSub"}, **split)}}}))
        return h.run_session(self.procs, self.daemon, config, self.consumer(name), name, self.env)



class LocalModePubsub(PubsubSplit, unittest.TestCase):
    def test_each_message_reaches_the_subscriber_its_filters_name(self):
        producer = publisher(self.host, self.subscription)
        alice, _ = self.run_developer("alice", {"message_filter": {"tenant": "^alice$"}})
        bob, _ = self.run_developer("bob", {"jq_filter": '.data | @base64d | fromjson | .kind == "refund"'})
        h.eventually(lambda: len(self.seqs("bob")) > 40, 90, "bob to receive refunds")
        steady_from = producer.seq
        time.sleep(2.0)
        steady_to = producer.seq
        # What was published by steady_to is forwarded before bob's session ends (an empty pull
        # on pstest waits 500 ms before it looks again).
        time.sleep(1.5)
        bob.send_signal(signal.SIGINT)  # Ctrl-C ends bob's session: his unread messages go back
        self.assertEqual(bob.wait(timeout=60), 0)
        time.sleep(1.0)
        alice.send_signal(signal.SIGINT)
        self.assertEqual(alice.wait(timeout=60), 0)
        h.eventually(lambda: not self.daemon.queues(), 180, "the split to be restored")
        restored_at = producer.seq
        time.sleep(0.5)
        total = producer.stop()
        h.eventually(lambda: not set(range(total)) - set(self.received()), 240, "every message to arrive")

        got = self.received()

        def expected(seq):
            tenant, kind = json.loads(message(seq)[0])["tenant"], json.loads(message(seq)[0])["kind"]
            return "alice" if tenant == "alice" else "bob" if kind == "refund" else "workload"
        lost = [s for s in range(total) if s not in got]
        misrouted = {s: got[s] for s in range(steady_from, steady_to) if expected(s) not in got.get(s, [])
                     or any(w != expected(s) for w in got.get(s, []))}
        wrong = {s: w for s, w in got.items() if ("alice" in w or "bob" in w) and expected(s) not in w}
        after = {s: got[s] for s in range(restored_at, total) if set(got.get(s, [])) != {"workload"}}
        twice = sum(1 for w in got.values() if len(w) > 1)
        print(f"{total} published; {twice} received twice (at least once: a subscriber stopped with "
              "messages it had not acknowledged gets them again)")
        self.assertEqual((lost, misrouted, wrong, after), ([], {}, {}, {}),
                         "lost, misrouted while both split, a developer's that was not theirs, and not the "
                         "workload's after the restore")
        h.eventually(lambda: not self.temporaries(), 30, "every temporary topic and subscription to be deleted")

    def test_kill9_of_qsplitd_mid_stream_loses_nothing(self):
        alice, session = self.run_developer("alice", {"message_filter": {"tenant": "^alice$"}})
        producer = publisher(self.host, self.subscription)
        h.eventually(lambda: len(self.seqs("alice")) > 20, 90, "alice to receive messages")
        self.daemon.kill9()
        time.sleep(0.5)
        self.daemon.start()  # the same port and store: the session resumes
        self.assertEqual([s["id"] for s in self.daemon.sessions()], [session])
        h.eventually(lambda: len(self.seqs("alice")) > 100, 90, "messages after the restart")
        total = producer.stop()
        # What qsplitd had pulled when it was killed comes again after its ack deadline (10 s).
        h.eventually(lambda: not set(range(total)) - set(self.received()), 120, "every message to arrive")
        self.assertTrue(all(s % 3 == 0 for s in self.seqs("alice")))
        self.assertTrue(all(s % 3 != 0 for s in self.seqs("workload")))
        h.end_last_session(self, alice, self.daemon, self.temporaries,
                           "every temporary topic and subscription to be deleted")

    def test_pubsub_off_and_bad_settings_are_refused_by_name(self):
        config = h.write(os.path.join(self.dir, "alice.json"), json.dumps({
            "target": f"deployment/{self.workload}",
            "feature": {"split_queues": {"orders": {"queue_type": "GCPPubSub",
                                                    "message_filter": {"tenant": "^alice$"}}}}}))

        def refused():
            return h.refused_run(self, config, self.env)

        def restart(daemon_config, resources):
            self.procs.stop_all()
            self.procs = h.Processes(self.dir)
            h.write(self.resources, resources)
            self.start_daemon(daemon_config)
        restart("pubsub:\n  enabled: false\n", resources_yaml(self.workload, self.host))
        self.assertIn("queue id 'orders' is GCPPubSub, and Google Cloud Pub/Sub splitting is not enabled in qsplitd",
                      refused())
        restart("pubsub:\n  enabled: true\n", resources_yaml(self.workload, self.host, "\n    queueConfig: tuning")
                + """---
apiVersion: mirrord.metalbear.co/v1
kind: MirrordPropertyList
metadata:
  name: tuning
spec:
  properties:
    - name: ack_deadline_seconds
      value: "5"
""")
        self.assertIn(f"MirrordSplitConfig {self.workload}: queue orders: clientConfig gcp-staging, queueConfig "
                      "tuning: ack_deadline_seconds: '5' is not a whole number of seconds from 10 to 600", refused())
        restart("pubsub:\n  enabled: true\n", resources_yaml(self.workload, self.host).replace(
            "    - name: emulator_host", "    - name: credentials_json\n      value: \"{}\"\n    - name: emulator_host"))
        self.assertIn("credentials_json: an emulator (emulator_host '" + self.host + "', or PUBSUB_EMULATOR_HOST of "
                      "qsplitd) takes no credentials; give one or the other", refused())
        restart("pubsub:\n  enabled: true\n", resources_yaml(self.workload, self.host).replace(
            f"      - env: {VARIABLE}\n", f"      - env: {VARIABLE}\n      projectId:\n      - env: ORDERS_PROJECT\n"))
        missing = refused()
        self.assertIn("queue orders: appConfig.projectId", missing)
        self.assertIn("ORDERS_PROJECT", missing)
        self.assertEqual(self.temporaries(), [], "nothing was created")


def service_account_key():
    """A service-account key as Google issues one (JSON, an RSA key in PKCS#8 PEM)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    email = f"qsplit@{PROJECT}.iam.gserviceaccount.com"
    return {"type": "service_account", "project_id": PROJECT, "private_key_id": h.unique("key"),
            "private_key": pem, "client_email": email, "client_id": "1",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": "https://oauth2.googleapis.com/token"}


class LocalModePubsubCredentials(PubsubSplit, unittest.TestCase):
    """qsplitd reaching Pub/Sub as it reaches Google's service: over TLS, each call carrying a
    token signed with a service account's key. scripts/pubsub.sh serves the same pstest over
    TLS, refusing a call whose token no registered key signed; the applications still use the
    plaintext emulator (the same topics and subscriptions)."""

    def setUp(self):
        self.endpoint = h.require("QSPLIT_PUBSUB_TLS_ENDPOINT")
        self.key = service_account_key()
        self.key_file = h.write(os.path.join(h.tempdir(self.id().split(".")[-1] + "-key"), "key.json"),
                                json.dumps(self.key))
        super().setUp()

    def register(self):
        h.write(os.path.join(h.require("QSPLIT_PUBSUB_KEYS"), self.key["private_key_id"] + ".json"),
                json.dumps(self.key))

    def start_daemon(self, config, key_file=None):
        """qsplitd with no emulator: Google's way, trusting the server's certificate."""
        env = {"PUBSUB_EMULATOR_HOST": None, "GOOGLE_APPLICATION_CREDENTIALS": key_file,
               "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH": h.require("QSPLIT_PUBSUB_TLS_CA")}
        self.daemon = h.Daemon(self.procs, self.dir, config, os.path.dirname(self.resources), env=env).start()
        self.env["QSPLIT_SERVER"] = self.daemon.url
        h.exec_workload(self.procs, self.daemon, dict(self.env, **{VARIABLE: self.subscription}), self.workload,
                        self.consumer("workload"))

    def restart(self, properties, key_file=None):
        self.procs.stop_all()
        self.procs = h.Processes(self.dir)
        h.write(self.resources, resources_yaml(self.workload, self.host).replace(
            f'    - name: emulator_host\n      value: "{self.host}"\n',
            f'    - name: endpoint\n      value: "{self.endpoint}"\n' + properties))
        self.start_daemon("pubsub:\n  enabled: true\n", key_file)

    def split_once(self):
        """alice's session, 30 messages published, each where its tenant says, then the end."""
        alice, _ = self.run_developer("alice", {"message_filter": {"tenant": "^alice$"}})
        self.publish(30)
        h.eventually(lambda: len(self.seqs("alice")) == 10 and len(self.seqs("workload")) >= 20, 90,
                     "each message to reach its subscriber")
        self.assertEqual(sorted(self.seqs("alice")), list(range(0, 30, 3)))
        h.end_last_session(self, alice, self.daemon, self.temporaries,
                           "every temporary topic and subscription to be deleted")
        for secret in ("eyJ", "PRIVATE KEY", self.key["private_key"].splitlines()[1]):  # a JWT; the key
            self.assertNotIn(secret, self.daemon.log(), "no token or key in qsplitd's log")

    def test_a_key_in_the_client_config_signs_every_call(self):
        self.register()
        self.restart(f"    - name: credentials_json\n      value: {json.dumps(json.dumps(self.key))}\n")
        self.split_once()

    def test_application_default_credentials_are_read_as_googles_libraries_read_them(self):
        config = h.write(os.path.join(self.dir, "alice.json"), json.dumps({
            "target": f"deployment/{self.workload}",
            "feature": {"split_queues": {"orders": {"queue_type": "GCPPubSub",
                                                    "message_filter": {"tenant": "^alice$"}}}}}))
        self.restart("", key_file=self.key_file)  # GOOGLE_APPLICATION_CREDENTIALS: a key not registered yet
        refused = h.refused_run(self, config, self.env)
        self.assertIn("UNAUTHENTICATED", refused)
        self.assertNotIn("eyJ", refused + self.daemon.log())
        self.assertEqual(self.temporaries(), [], "nothing was created")
        self.register()  # the key is granted: the same qsplitd now splits
        self.split_once()

    def test_a_bad_key_is_refused_naming_the_field(self):
        self.restart('    - name: credentials_json\n      value: "{\\"type\\": \\"service_account\\"}"\n')
        config = h.write(os.path.join(self.dir, "alice.json"), json.dumps({
            "target": f"deployment/{self.workload}",
            "feature": {"split_queues": {"orders": {"queue_type": "GCPPubSub",
                                                    "message_filter": {"tenant": "^alice$"}}}}}))
        self.assertIn("credentials_json: not a service-account key", h.refused_run(self, config, self.env))


if __name__ == "__main__":
    unittest.main()
