"""End to end, Kubernetes mode, on a real kube-apiserver (scripts/kube.sh) and ElasticMQ:
the CRDs take the reference's own example resources; qsplitd reads the registry from the
cluster, patches the Deployment's pod template while its queues are split, and reverses
exactly its own change at the end. kubectl is the independent client throughout."""
import json
import os
import re
import signal
import subprocess
import unittest


import harness as h
import kube as k

MEME, AD, EXTRA = "INCOMING_MEME_QUEUE_NAME", "AD_QUEUE_NAME", "EXTRA_QUEUE_NAME"


def invalid(document, namespace):
    """kubectl apply's error for a resource the API server must refuse."""
    code, _, err = k.apply(document, namespace, check=False)
    assert code != 0, f"the API server accepted:\n{document}"
    return err


class KubeResources(unittest.TestCase):
    def setUp(self):
        k.kubeconfig()
        k.install_crds()
        self.ns = k.namespace("examples")
        k.kubectl("create", "namespace", "mirrord", check=False)

    def test_crds_take_the_reference_examples_and_refuse_invalid_resources(self):
        path = os.path.join(h.SOURCE, "tests/testdata/kube/reference-examples.yaml")
        for doc in h.read(path).split("\n---\n")[1:]:
            k.apply(doc, None if "namespace: mirrord" in doc else self.ns)
        k.apply(h.read(os.path.join(h.SOURCE, "tests/testdata/resources/split-config.yaml"))
                .replace("namespace: default", f"namespace: {self.ns}"))
        registry = k.get("mirrordworkloadqueueregistries", "meme-app-q-registry", self.ns)
        self.assertEqual(registry["spec"]["queues"]["meme-queue"]["nameSource"],
                         {"envVar": "INCOMING_MEME_QUEUE_NAME"})
        _, out, _ = k.kubectl("get", "mirrordsplitconfigs", "-n", self.ns)
        self.assertRegex(out, r"meme-app\s+Deployment\s+meme-app")
        _, out, _ = k.kubectl("describe", "qs", "meme-app-q-registry", "-n", self.ns)
        self.assertIn("INCOMING_MEME_QUEUE_NAME", out)

        registry = h.registry_yaml("memes", "meme-queue", MEME)
        err = invalid(registry.replace("queueType: SQS", "queueType: KAFKA"), self.ns)
        self.assertRegex(err, r'spec\.queues\.meme-queue\.queueType: Unsupported value: "KAFKA"')
        err = invalid(registry.split("  consumer:")[0], self.ns)
        self.assertIn("spec.consumer: Required value", err)
        err = invalid("""apiVersion: queues.mirrord.metalbear.co/v1alpha
kind: MirrordKafkaClientConfig
metadata: {name: bad-secret}
spec: {loadFromSecret: no-slash, properties: []}
""", self.ns)
        self.assertIn("spec.loadFromSecret", err)
        err = invalid("""apiVersion: queues.mirrord.metalbear.co/v1
kind: MirrordSplitConfig
metadata: {name: bad}
spec:
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: x}
  queues: [{id: q, kind: sqs}]
""", self.ns)
        self.assertIn("spec.queues[0].appConfig: Required value", err)

    def test_the_chart_installs_what_its_values_enable(self):
        _, docs = k.helm_template(self.ns, "operator.sqsSplitting=true",
                                  "sa.roleArn=arn:aws:iam::1:role/qsplit", "operator.logLevel=debug")
        crds = sorted(d["metadata"]["name"].split(".")[0] for d in docs
                      if d["kind"] == "CustomResourceDefinition")
        self.assertEqual(crds, ["mirrordpropertylists", "mirrordsplitconfigs", "mirrordsqssessions",
                                "mirrordworkloadqueueregistries", "qsplitrecords", "qsplitsessions"])
        account = [d for d in docs if d["kind"] == "ServiceAccount"][0]
        self.assertEqual(account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"],
                         "arn:aws:iam::1:role/qsplit")
        deployment = [d for d in docs if d["kind"] == "Deployment"][0]
        env = {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
        self.assertEqual(env["OPERATOR_SQS_SPLITTING"], "true")
        self.assertEqual(env["OPERATOR_KAFKA_SPLITTING"], "false")
        self.assertEqual(env["OPERATOR_SQS_SPLITTING_LINGER_TIMEOUT"], "60000")
        self.assertEqual(env["OPERATOR_KAFKA_SPLITTING_TOPIC_FORMAT"],
                         "mirrord-tmp-{{RANDOM}}{{FALLBACK}}{{ORIGINAL_TOPIC}}")
        self.assertEqual(env["RUST_LOG"], "debug")
        _, docs = k.helm_template(self.ns, "operator.kafkaSplitting=true")
        crds = sorted(d["metadata"]["name"].split(".")[0] for d in docs
                      if d["kind"] == "CustomResourceDefinition")
        self.assertEqual(crds, ["mirrordkafkaclientconfigs", "mirrordkafkaephemeraltopics",
                                "mirrordkafkatopicsconsumers", "mirrordsplitconfigs", "qsplitrecords",
                                "qsplitsessions"])
        _, docs = k.helm_template(self.ns, "operator.rabbitmqSplitting=true")
        crds = sorted(d["metadata"]["name"].split(".")[0] for d in docs
                      if d["kind"] == "CustomResourceDefinition")
        self.assertEqual(crds, ["mirrordpropertylists", "mirrordsplitconfigs",
                                "mirrordworkloadqueueregistries", "qsplitrecords", "qsplitsessions"])
        deployment = [d for d in docs if d["kind"] == "Deployment"][0]
        env = {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
        self.assertEqual(env["OPERATOR_RABBITMQ_SPLITTING"], "true")
        _, docs = k.helm_template(self.ns, "operator.redisSplitting=true")
        crds = sorted(d["metadata"]["name"].split(".")[0] for d in docs
                      if d["kind"] == "CustomResourceDefinition")
        self.assertEqual(crds, ["mirrordpropertylists", "mirrordsplitconfigs", "qsplitrecords", "qsplitsessions"])
        deployment = [d for d in docs if d["kind"] == "Deployment"][0]
        env = {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
        self.assertEqual(env["OPERATOR_REDIS_SPLITTING"], "true")
        _, docs = k.helm_template(self.ns, "operator.redisPubsubSplitting=true")
        self.assertEqual(sorted(d["metadata"]["name"].split(".")[0] for d in docs
                                if d["kind"] == "CustomResourceDefinition"), crds)
        deployment = [d for d in docs if d["kind"] == "Deployment"][0]
        env = {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
        self.assertEqual((env["OPERATOR_REDIS_SPLITTING"], env["OPERATOR_REDIS_PUBSUB_SPLITTING"]), ("false", "true"))
        _, docs = k.helm_template(self.ns, "operator.bullmqSplitting=true")
        self.assertEqual(sorted(d["metadata"]["name"].split(".")[0] for d in docs
                                if d["kind"] == "CustomResourceDefinition"), crds)
        deployment = [d for d in docs if d["kind"] == "Deployment"][0]
        env = {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
        self.assertEqual((env["OPERATOR_REDIS_SPLITTING"], env["OPERATOR_BULLMQ_SPLITTING"]), ("false", "true"))
        for value in ("operator.gcpPubsubSplitting=true", "operator.pubsubSplitting=true"):  # the reference's, qsplit's
            _, pubsub = k.helm_template(self.ns, value, "sa.gcpSa=qsplit@p.iam.gserviceaccount.com",
                                        "operator.pubsubEmulatorHost=10.0.0.9:8085")
            self.assertEqual(sorted(d["metadata"]["name"].split(".")[0] for d in pubsub
                                    if d["kind"] == "CustomResourceDefinition"), crds)
            deployment = [d for d in pubsub if d["kind"] == "Deployment"][0]
            env = {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
            self.assertEqual((env["OPERATOR_GCP_PUBSUB_SPLITTING"], env["PUBSUB_EMULATOR_HOST"]), ("true", "10.0.0.9:8085"))
            account = [d for d in pubsub if d["kind"] == "ServiceAccount"][0]
            self.assertEqual(account["metadata"]["annotations"], {"iam.gke.io/gcp-service-account":
                                                                  "qsplit@p.iam.gserviceaccount.com"})
            self.assertTrue(any(d["kind"] == "Role" and any("secrets" in r.get("resources", []) for r in d["rules"])
                                for d in pubsub), "a key in a Secret can be read")
        self.assertTrue(any(d["kind"] in ("ClusterRole", "Role") and any("mirrordsplitconfigs" in r.get("resources", [])
                                                               for r in d.get("rules", [])) for d in docs))
        # Everything the chart renders applies on the API server as it is.
        text, _ = k.helm_template(self.ns, "operator.sqsSplitting=true", "operator.kafkaSplitting=true",
                                  "operator.rabbitmqSplitting=true", "operator.redisSplitting=true",
                                  "tokens=x")
        k.apply(text)
        self.assertEqual(k.get("deployment", "qsplit", self.ns)["spec"]["template"]["spec"]
                         ["serviceAccountName"], "qsplit")


def deployment_yaml(name, meme_queue):
    return k.workload_yaml(name, f"""      - name: main
        image: registry.example/memes:1
        envFrom:
        - configMapRef: {{name: {name}-env}}
        env:
        - name: {MEME}
          value: {meme_queue}
        - name: {AD}
          valueFrom:
            configMapKeyRef: {{name: {name}-queues, key: ad}}
        - name: LOG_LEVEL
          value: info
      - name: sidecar
        image: registry.example/proxy:1
""")


def registry_yaml(name):
    return f"""apiVersion: queues.mirrord.metalbear.co/v1alpha
kind: MirrordWorkloadQueueRegistry
metadata:
  name: {name}-registry
spec:
  queues:
    meme-queue:
      queueType: SQS
      nameSource: {{envVar: {MEME}}}
    ad-queue:
      queueType: SQS
      nameSource: {{envVar: {AD}}}
    extra-queue:
      queueType: SQS
      nameSource: {{envVar: {EXTRA}}}
  consumer:
    name: {name}
    container: main
    workloadType: Deployment
  workloadRestartTimeout: 60
"""


class KubeMode(unittest.TestCase):
    def setUp(self):
        k.kubeconfig()
        self.endpoint, self.sqs = h.elasticmq(self)
        k.install_crds()
        self.ns = k.namespace("memes")
        self.name = "memes"
        self.queues = {v: h.unique(v.split("_")[0].lower()) for v in (MEME, AD, EXTRA)}
        self.urls = {v: self.sqs.create_queue(QueueName=q)["QueueUrl"] for v, q in self.queues.items()}
        k.kubectl("create", "configmap", f"{self.name}-queues", "-n", self.ns,
                  f"--from-literal=ad={self.queues[AD]}")
        k.kubectl("create", "configmap", f"{self.name}-env", "-n", self.ns,
                  f"--from-literal={EXTRA}={self.queues[EXTRA]}")
        k.apply(deployment_yaml(self.name, self.queues[MEME]), self.ns)
        k.apply(registry_yaml(self.name), self.ns)
        self.standin = k.RolloutStandIn(self.name, self.ns)
        self.standin.start()
        self.addCleanup(self.standin.stop)
        self.original = self.deployment()
        self.daemon = self.start_daemon()

    def start_daemon(self, config=None, name="qsplitd", wait_ready=True, leader_election=True,
                     store="cluster", data_dir="data"):
        # The operator's namespace is the workloads', as the chart installs it by default.
        return h.Daemon(self.procs, self.dir, f"""sqs:
  endpoint: {self.endpoint}
  pollers: 2
operator_namespace: {self.ns}
splitting:
  linger_timeout: 20
kubernetes:
  lease_duration: 6
  leader_election: {"true" if leader_election else "false"}
  store: {store}
""", None, args=["--kubeconfig", config or k.kubeconfig(), "--namespace", self.ns],
            data_dir=os.path.join(self.dir, data_dir), name=name).start(wait_ready)

    def deployment(self):
        return k.get("deployment", self.name, self.ns)

    def template_env(self, d=None):
        """The main container's env entries by name, as the pod template has them."""
        d = d or self.deployment()
        main = [c for c in d["spec"]["template"]["spec"]["containers"] if c["name"] == "main"][0]
        return {e["name"]: e for e in main.get("env", [])}

    def run_developer(self, who, filters, target=None):
        config = h.write(os.path.join(self.dir, who + ".json"), json.dumps({
            "target": target or f"deployment/{self.name}",
            "feature": {"split_queues": {q: {"queue_type": "SQS", "message_filter": f}
                                         for q, f in filters.items()}}}))
        out = os.path.join(self.dir, who + ".jsonl")
        before = {s["id"] for s in self.daemon.sessions()}
        p = self.procs.start([h.QSPLIT, "run", "-f", config, "--", "python3", h.CONSUMER, MEME, out],
                             who, {"QSPLIT_SERVER": self.daemon.url})
        h.eventually(lambda: [s for s in self.daemon.sessions()
                              if s["id"] not in before and s["state"] != "starting"]
                     or p.poll() is not None, 120, f"{who}'s session to be ready")
        self.assertIsNone(p.poll(), h.read(os.path.join(self.dir, who + ".err")))
        return p

    def run_pod(self):
        """What the deployed workload's pod would run: the consumer with the template's
        queue variable (a literal while split)."""
        value = self.template_env()[MEME]["value"]
        return self.procs.start(["python3", h.CONSUMER, MEME, os.path.join(self.dir, "pod.jsonl")],
                                "pod", {MEME: value})

    def produce(self, authors):
        bodies = []
        for i, author in enumerate(authors):
            body = f"m-{i}-{author}"
            self.sqs.send_message(QueueUrl=self.urls[MEME], MessageBody=body, MessageAttributes={
                "author": {"DataType": "String", "StringValue": author}})
            bodies.append(body)
        return bodies

    def receivers(self, names):
        return h.receivers(self.dir, names)

    def records(self):
        """The kinds of the store's QsplitRecords, as kubectl lists them."""
        _, out, _ = k.kubectl("get", "qsplitrecords", "-n", self.ns, "-o",
                              "jsonpath={range .items[*]}{.spec.kind}{'\\n'}{end}")
        return sorted(set(out.split()))

    def fallbacks(self):
        return {q["original"]: q["fallback"] for q in self.daemon.queues()}

    def temporaries(self):
        urls = self.sqs.list_queues(QueueNamePrefix="mirrord-").get("QueueUrls", [])
        return [u for u in urls if any(q in u for q in self.queues.values())]

    def test_sessions_patch_the_template_and_restore_exactly_their_change(self):
        alice = self.run_developer("alice", {"meme-queue": {"author": "^alice$"},
                                             "ad-queue": {"kind": "^banner$"},
                                             "extra-queue": {"kind": "^banner$"}})
        # Every variable holds its fallback queue as a literal, whatever its source was (a
        # literal, a ConfigMap key, an envFrom ConfigMap); the label marks the patch.
        patched = self.deployment()
        # The three queues in one write of the template: one rollout.
        self.assertEqual(patched["metadata"]["generation"], self.original["metadata"]["generation"] + 1)
        env, fallbacks = self.template_env(patched), self.fallbacks()
        for var in (MEME, AD, EXTRA):
            self.assertEqual(env[var], {"name": var, "value": fallbacks[self.queues[var]]}, var)
        self.assertEqual(env["LOG_LEVEL"], {"name": "LOG_LEVEL", "value": "info"})
        self.assertEqual(patched["metadata"]["labels"]["operator.metalbear.co/patched"], "true")
        self.assertEqual(patched["spec"]["template"]["metadata"]["labels"]
                         ["operator.metalbear.co/patched"], "true")

        # The registry's status says what is split, as the reference writes it.
        def registry_status():
            return k.get("mirrordworkloadqueueregistries", f"{self.name}-registry", self.ns).get("status", {})
        status = h.eventually(lambda: registry_status().get("sqsDetails"), 30, "the registry's status")
        self.assertEqual(status["queueNames"]["meme-queue"],
                         {"originalName": self.queues[MEME], "outputName": fallbacks[self.queues[MEME]]})
        self.assertEqual(set(status["queueNames"]), {"meme-queue", "ad-queue", "extra-queue"})

        # A second session on the same queue restarts nothing.
        bob = self.run_developer("bob", {"meme-queue": {"author": "^bob$"}})
        self.assertEqual(self.deployment()["metadata"]["generation"], patched["metadata"]["generation"])

        # Meanwhile someone else edits the workload: that edit must survive the restore.
        k.kubectl("set", "env", f"deployment/{self.name}", "-n", self.ns, "-c", "main", "FEATURE_X=on")

        pod = self.run_pod()
        bodies = self.produce(["alice", "bob", "carol"] * 10)
        names = ["alice", "bob", "pod"]
        h.eventually(lambda: all(b in self.receivers(names) for b in bodies), 90, "every message")
        h.assert_at_least_once(self, self.receivers(names),
                               {b: {"alice": "alice", "bob": "bob"}.get(b.split("-")[-1], "pod")
                                for b in bodies})

        # Each session is a QsplitSession users can read and delete with kubectl; deleting
        # bob's ends his session as if he had ended it (his `qsplit run` stops its command).
        def resources():
            items = json.loads(k.kubectl("get", "qsplitsessions", "-n", self.ns, "-o", "json")[1])["items"]
            return {i["spec"]["id"]: i for i in items}

        def listed():
            r = resources()
            ready = set(r) == {s["id"] for s in self.daemon.sessions()} and all(
                i.get("status", {}).get("phase") == "Ready" for i in r.values())
            forwarded = sum(q.get("forwarded", 0) for i in r.values()
                            for q in i.get("status", {}).get("queues", []) if q["id"] == "meme-queue")
            return r if ready and forwarded == 20 else None
        for item in h.eventually(listed, 30, "two Ready QsplitSessions with their counts").values():
            meme = [q for q in item["status"]["queues"] if q["id"] == "meme-queue"][0]
            self.assertEqual(meme["original"], self.queues[MEME])
            self.assertEqual(meme["fallback"], fallbacks[self.queues[MEME]])
            self.assertTrue(meme["temporary"].startswith("mirrord-"), meme)
        _, out, _ = k.kubectl("get", "qsplitsessions", "-n", self.ns)
        self.assertRegex(out, r"session-\d+\s+local\s+deployment/memes\s+Ready")
        bob_id = max(self.daemon.sessions(), key=lambda s: s["started_unix_ms"])["id"]
        k.kubectl("delete", "qsplitsession", f"session-{bob_id}", "-n", self.ns)
        bob.wait(timeout=60)  # his consumer may fail first: its queue is gone
        self.assertNotIn(bob_id, {s["id"] for s in self.daemon.sessions()})
        self.assertRegex(self.daemon.log(), f"session={bob_id} its QsplitSession was deleted")
        generation = self.deployment()["metadata"]["generation"]
        alice.send_signal(signal.SIGINT)
        self.assertEqual(alice.wait(timeout=60), 0)
        h.eventually(lambda: not self.daemon.queues(), 90, "the splits to end")
        pod.terminate()

        restored = self.deployment()
        self.assertEqual(restored["metadata"]["generation"], generation + 1)  # one restore for all
        want = json.loads(json.dumps(self.original["spec"]["template"]))
        main = [c for c in want["spec"]["containers"] if c["name"] == "main"][0]
        main["env"].append({"name": "FEATURE_X", "value": "on"})
        self.assertEqual(restored["spec"]["template"], want)
        self.assertNotIn("operator.metalbear.co/patched", restored["metadata"].get("labels", {}))
        self.assertNotIn("qsplit.dev/patch", restored["metadata"].get("annotations", {}))
        h.eventually(lambda: not self.temporaries(), 30, "every temporary queue to be deleted")
        h.eventually(lambda: not registry_status().get("sqsDetails"), 30, "the registry's status to clear")

    def test_wait_for_pods_all_waits_for_every_replicas_pod(self):
        name, queue = "memes-all", h.unique("all")
        self.queues["all"] = queue  # its temporaries are this test's too
        self.sqs.create_queue(QueueName=queue)
        k.apply(k.workload_yaml(name, f"""      - name: main
        image: registry.example/memes:1
        env:
        - {{name: {MEME}, value: {queue}}}
""").replace("replicas: 1", "replicas: 2"), self.ns)
        k.apply(f"""apiVersion: queues.mirrord.metalbear.co/v1
kind: MirrordSplitConfig
metadata: {{name: {name}}}
spec:
  targetRef: {{apiVersion: apps/v1, kind: Deployment, name: {name}}}
  restart: {{waitForPods: all, timeout: 6}}
  queues:
  - id: meme-queue
    kind: sqs
    appConfig:
      queue: [{{env: {MEME}, containers: [main]}}]
""", self.ns)
        original = k.get("deployment", name, self.ns)
        one_ready = k.RolloutStandIn(name, self.ns, pods=2, ready_pods=1)
        one_ready.start()
        config = h.write(os.path.join(self.dir, "all.json"), json.dumps({
            "target": f"deployment/{name}",
            "feature": {"split_queues": {"meme-queue": {"queue_type": "SQS",
                                                        "message_filter": {"author": "^a$"}}}}}))
        def start():  # once qsplitd's watch has the new MirrordSplitConfig
            run = subprocess.run([h.QSPLIT, "run", "-f", config, "--", "true"],
                                 env=dict(os.environ, QSPLIT_SERVER=self.daemon.url),
                                 capture_output=True, text=True, timeout=120)
            return None if "no MirrordSplitConfig targets" in run.stderr else run
        run = h.eventually(start, 30, "qsplitd to read the MirrordSplitConfig")
        self.assertNotEqual(run.returncode, 0)
        self.assertRegex(run.stderr, rf"workload deployment/{name}: not 2 pods of the patched "
                                     r"template became ready within 6 s \(2 pods with the "
                                     r"template's variables, 1 ready of the 2 waited for")
        h.eventually(lambda: k.get("deployment", name, self.ns)["spec"]["template"] ==
                     original["spec"]["template"], 60, "the template to be restored")
        h.eventually(lambda: not self.temporaries(), 30, "every temporary queue to be deleted")
        one_ready.stop()

        both_ready = k.RolloutStandIn(name, self.ns, pods=2)
        both_ready.start()
        self.addCleanup(both_ready.stop)
        alice = self.run_developer("alice", {"meme-queue": {"author": "^a$"}}, target=f"deployment/{name}")
        patched = k.get("deployment", name, self.ns)["spec"]["template"]
        pods = json.loads(k.kubectl("get", "pods", "-n", self.ns, "-l", f"app={name}", "-o", "json")[1])
        env = patched["spec"]["containers"][0]["env"]
        ready = [p for p in pods["items"] if p["spec"]["containers"][0].get("env") == env and any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in p.get("status", {}).get("conditions", []))]
        self.assertEqual(len(ready), 2, pods)  # the start returned once both were Ready
        alice.send_signal(signal.SIGINT)
        alice.wait(timeout=60)
        h.eventually(lambda: not self.daemon.queues(), 90, "the split to end")
        self.assertEqual(k.get("deployment", name, self.ns)["spec"]["template"], original["spec"]["template"])

    def test_the_specs_troubleshooting_commands_end_a_targets_sqs_sessions(self):
        alice = self.run_developer("alice", {"meme-queue": {"author": "^alice$"}})
        bob = self.run_developer("bob", {"meme-queue": {"author": "^bob$"}, "ad-queue": {"kind": "^x$"}})
        sessions = {s["id"]: s for s in self.daemon.sessions()}

        # Every SQS session is also a MirrordSQSSession, as the reference operator keeps them.
        def ready():
            items = json.loads(k.kubectl("get", "mirrordsqssessions.queues.mirrord.metalbear.co",
                                         "-n", self.ns, "-o", "json")[1])["items"]
            r = {i["metadata"]["labels"]["qsplit.dev/session"]: i for i in items}
            return r if set(r) == set(sessions) and all("Ready" in i.get("status", {}) for i in r.values()) else None
        items = h.eventually(ready, 30, "two Ready MirrordSQSSessions")
        for id, session in sessions.items():
            item = items[id]
            temporary = {q["queue_id"]: q for q in session["queues"]}
            self.assertEqual(item["spec"]["sessionId"], format(int(id), "X"))
            self.assertEqual(item["spec"]["queueConsumer"], {"name": self.name, "workloadType": "Deployment"})
            self.assertEqual(item["spec"]["outputQueueNames"],
                             {q["original"]: q["temporary"] for q in session["queues"]})
            meme = {"originalName": self.queues[MEME], "outputName": temporary["meme-queue"]["temporary"]}
            self.assertEqual(item["status"]["Ready"]["queueNames"]["meme-queue"], meme)
            self.assertEqual(item["status"]["Ready"]["envUpdates"][MEME], meme)
        filters = {i["spec"]["sessionId"]: i["spec"]["queueFilters"] for i in items.values()}
        self.assertCountEqual(filters.values(), [{"meme-queue": {"author": "^alice$"}},
                                                 {"meme-queue": {"author": "^bob$"}, "ad-queue": {"kind": "^x$"}}])

        # The spec's step for a bad state, as written: delete the target's MirrordSqsSessions.
        # That ends both sessions as if their owners had ended them.
        step = f"""kubectl get mirrordsqssessions.queues.mirrord.metalbear.co -n {self.ns} -o json \\
      | jq -r '.items[] | select(.spec.queueConsumer.name=="{self.name}" and .spec.queueConsumer.workloadType=="Deployment") | .metadata.name' \\
      | xargs -r -I {{}} kubectl delete mirrordsqssessions.queues.mirrord.metalbear.co -n {self.ns} {{}}"""
        done = k.shell(step, self.dir)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stdout.count("deleted"), 2, done.stdout)
        alice.wait(timeout=60)
        bob.wait(timeout=60)
        self.assertEqual(self.daemon.sessions(), [])
        for id in sessions:
            self.assertRegex(self.daemon.log(), f"session={id} its MirrordSQSSession was deleted")
        h.eventually(lambda: not self.daemon.queues(), 90, "the splits to end")
        self.assertEqual(self.deployment()["spec"]["template"], self.original["spec"]["template"])
        h.eventually(lambda: not k.kubectl("get", "qsplitsessions", "-n", self.ns, "-o", "name")[1].strip(),
                     30, "their QsplitSessions to go")

    def test_qsplitd_killed_mid_session_resumes_and_leaves_nothing_behind(self):
        alice = self.run_developer("alice", {"meme-queue": {"author": "^alice$"}})
        pod = self.run_pod()
        # The session and its split are in the cluster, as QsplitRecords; nothing is on disk,
        # so the restarted pod needs no volume.
        self.assertEqual(self.records(), ["session", "split", "temporary:SQS"])
        self.assertFalse(os.path.exists(self.daemon.data_dir))
        self.daemon.kill9()
        bodies = self.produce(["alice", "dave"] * 10)
        self.daemon.start()
        names = ["alice", "pod"]
        h.eventually(lambda: all(b in self.receivers(names) for b in bodies), 90, "every message")
        h.assert_at_least_once(self, self.receivers(names),
                               {b: "alice" if b.endswith("alice") else "pod" for b in bodies})
        alice.send_signal(signal.SIGINT)
        self.assertEqual(alice.wait(timeout=60), 0)
        h.eventually(lambda: not self.daemon.queues(), 90, "the split to end")
        pod.terminate()
        self.assertEqual(self.deployment()["spec"]["template"], self.original["spec"]["template"])
        h.eventually(lambda: not self.temporaries(), 30, "every temporary queue to be deleted")
        self.assertEqual(self.records(), [])

    def test_the_charts_service_account_may_do_all_a_session_needs_and_no_more(self):
        text, _ = k.helm_template(self.ns, "operator.sqsSplitting=true")
        k.apply(text)
        account = f"system:serviceaccount:{self.ns}:qsplit"
        for verb, resource, allowed in [("update", "deployments", "yes"), ("delete", "deployments", "no"),
                                        ("get", "secrets", "no"), ("create", "configmaps", "no"),
                                        ("delete", "qsplitsessions.qsplit.dev", "yes"),
                                        ("create", "qsplitrecords.qsplit.dev", "yes"),
                                        ("update", "qsplitrecords.qsplit.dev", "no"),
                                        ("delete", "mirrordsqssessions.queues.mirrord.metalbear.co", "yes"),
                                        ("list", "pods", "yes"), ("delete", "pods", "no")]:
            code, out, _ = k.kubectl("auth", "can-i", verb, resource, "-n", self.ns, "--as", account,
                                     check=False)
            self.assertEqual(out.strip(), allowed, f"{verb} {resource}")
        self.procs.stop_all()
        self.procs = h.Processes(self.dir)
        self.addCleanup(self.procs.stop_all)
        config = k.service_account_kubeconfig(self.ns, "qsplit", os.path.join(self.dir, "sa.kubeconfig"))
        self.daemon = self.start_daemon(config)
        alice = self.run_developer("alice", {"meme-queue": {"author": "^alice$"}})
        fallback = self.fallbacks()[self.queues[MEME]]
        self.assertEqual(self.template_env()[MEME], {"name": MEME, "value": fallback})
        self.assertTrue(h.eventually(lambda: "session-" in k.kubectl("get", "qsplitsessions", "-n", self.ns)[1],
                                     30, "the session's resource"))
        body = self.produce(["alice"])[0]
        h.eventually(lambda: body in self.receivers(["alice"]), 60, "alice's message")
        alice.send_signal(signal.SIGINT)
        self.assertEqual(alice.wait(timeout=60), 0)
        h.eventually(lambda: not self.daemon.queues(), 90, "the split to end")
        self.assertEqual(self.deployment()["spec"]["template"], self.original["spec"]["template"])
        self.assertNotIn("forbidden", self.daemon.log())

    def apply_argo_crd(self):
        crd = os.path.join(h.SOURCE, "tests/testdata/kube/argo-rollouts-crd.yaml")
        k.kubectl("apply", "-f", crd)
        k.kubectl("wait", "--for", "condition=established", "--timeout=60s", "-f", crd)

    def apply_rollout_registry(self, name, registries):
        """A registry for rollout/NAME, once qsplitd sees `registries` of them."""
        k.apply(h.registry_yaml(name, "meme-queue", MEME).replace("workloadType: Deployment",
                                                                  "workloadType: Rollout"), self.ns)
        h.eventually(lambda: f"cluster: {registries} queue registries" in self.daemon.log(), 30,
                     f"qsplitd to see {name}'s registry")

    def split_a_rollout(self, name, queue, url, holder, standin):
        """alice splits rollout/NAME's queue: `holder` (kind, name) is the object whose template
        is patched; alice gets hers, bob's reaches the fallback, and her end restores it."""
        original = k.get(*holder, self.ns)
        alice = self.run_developer("alice", {"meme-queue": {"author": "^alice$"}}, target=f"rollout/{name}")
        patched = k.get(*holder, self.ns)
        fallback = self.fallbacks()[queue]
        self.assertEqual(self.template_env(patched)[MEME], {"name": MEME, "value": fallback})
        self.assertEqual(patched["metadata"]["labels"]["operator.metalbear.co/patched"], "true")
        self.assertEqual(standin.rollouts[-1], patched["metadata"]["generation"])
        for author in ("alice", "bob"):
            self.sqs.send_message(QueueUrl=url, MessageBody=author, MessageAttributes={
                "author": {"DataType": "String", "StringValue": author}})
        h.eventually(lambda: "alice" in self.receivers(["alice"]), 60, "alice's message")
        fallback_url = self.sqs.get_queue_url(QueueName=fallback)["QueueUrl"]
        got = h.eventually(lambda: self.sqs.receive_message(QueueUrl=fallback_url, WaitTimeSeconds=1)
                           .get("Messages"), 60, "bob's message in the rollout's fallback queue")
        self.assertEqual([m["Body"] for m in got], ["bob"])
        self.sqs.delete_message(QueueUrl=fallback_url, ReceiptHandle=got[0]["ReceiptHandle"])

        alice.send_signal(signal.SIGINT)
        self.assertEqual(alice.wait(timeout=60), 0)
        h.eventually(lambda: not self.daemon.queues(), 90, "the split to end")
        restored = k.get(*holder, self.ns)
        self.assertEqual(restored["spec"]["template"], original["spec"]["template"])
        self.assertNotIn("operator.metalbear.co/patched", restored["metadata"].get("labels", {}))

    def test_an_argo_rollout_is_patched_and_restored_like_a_deployment(self):
        self.apply_argo_crd()
        name, queue = "memes-canary", h.unique("canary")
        url = self.sqs.create_queue(QueueName=queue)["QueueUrl"]
        k.apply(k.workload_yaml(name, f"""      - name: main
        image: registry.example/memes:2
        env:
        - {{name: {MEME}, value: {queue}}}
""", kind="Rollout", strategy="  strategy: {canary: {steps: [{setWeight: 20}]}}\n"), self.ns)
        self.apply_rollout_registry(name, 2)
        standin = k.RolloutStandIn(name, self.ns, kind="rollout", generation_as_string=True)
        standin.start()
        self.addCleanup(standin.stop)
        self.split_a_rollout(name, queue, url, ("rollout", name), standin)

    def test_a_rollout_with_a_workload_ref_is_patched_through_its_deployment(self):
        # Argo rolls out the template of the Deployment a Rollout's workloadRef names; that
        # Deployment stays at 0 replicas, and the pods are the Rollout's.
        self.apply_argo_crd()
        name, queue = "memes-ref", h.unique("ref")
        url = self.sqs.create_queue(QueueName=queue)["QueueUrl"]
        holder = k.workload_yaml(f"{name}-template", f"""      - name: main
        image: registry.example/memes:3
        env:
        - {{name: {MEME}, value: {queue}}}
""").replace("replicas: 1", "replicas: 0")
        k.apply(holder, self.ns)
        k.apply(f"""apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: {name}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: {name}-template}}}}
  workloadRef: {{apiVersion: apps/v1, kind: Deployment, name: {name}-template}}
  strategy: {{canary: {{steps: [{{setWeight: 20}}]}}}}
""", self.ns)
        self.apply_rollout_registry(name, 2)
        # Argo's part: the pods of the Deployment's template, labelled for the Rollout.
        standin = k.RolloutStandIn(f"{name}-template", self.ns)
        standin.start()
        self.addCleanup(standin.stop)
        original_rollout = k.get("rollout", name, self.ns)
        self.split_a_rollout(name, queue, url, ("deployment", f"{name}-template"), standin)
        self.assertEqual(k.get("rollout", name, self.ns)["spec"], original_rollout["spec"])

        # A workloadRef to anything but a Deployment is refused, naming the field.
        k.apply(f"""apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: odd-ref
spec:
  replicas: 1
  workloadRef: {{apiVersion: apps/v1, kind: ReplicaSet, name: {name}-template}}
""", self.ns)
        self.apply_rollout_registry("odd-ref", 3)
        config = h.write(os.path.join(self.dir, "odd.json"), json.dumps({
            "target": "rollout/odd-ref", "feature": {"split_queues": {"meme-queue": {
                "queue_type": "SQS", "message_filter": {"author": "x"}}}}}))
        p = self.procs.start([h.QSPLIT, "run", "-f", config, "--", "true"], "odd",
                             {"QSPLIT_SERVER": self.daemon.url})
        self.assertNotEqual(p.wait(timeout=60), 0)
        self.assertIn("workload rollout/odd-ref: spec.workloadRef:", h.read(os.path.join(self.dir, "odd.err")))
        self.assertIn("qsplit follows a workloadRef to a Deployment", h.read(os.path.join(self.dir, "odd.err")))

    def test_two_replicas_one_leads_and_killing_it_hands_over(self):
        # A second replica stands by: not ready, and it serves no session. The two share no
        # volume: the store is in the cluster.
        standby = self.start_daemon(name="standby", wait_ready=False, data_dir="standby-data")
        h.eventually(lambda: "standing by: the lease is held by" in standby.log(), 30, "the standby")
        self.assertEqual(standby.get("/readyz", raw=True)[0], 503)
        status, body = standby.get("/api/v1/sessions")
        self.assertEqual(status, 503, body)
        self.assertIn("another replica leads", body["error"]["message"])

        alice = self.run_developer("alice", {"meme-queue": {"author": "^alice$"}})
        session = self.daemon.sessions()[0]["id"]
        pod = self.run_pod()
        self.daemon.kill9()
        # The standby takes the lease once the leader stopped renewing it (6 s here), resumes
        # the session from the store and routes as before.
        h.eventually(lambda: standby.get("/readyz", raw=True)[0] == 200, 60, "the standby to lead")
        self.assertIn("leading: this replica holds the lease", standby.log())
        self.assertEqual([s["id"] for s in standby.sessions()], [session])
        self.assertFalse(os.path.exists(standby.data_dir))
        bodies = self.produce(["alice", "erin"] * 5)
        names = ["alice", "pod"]
        h.eventually(lambda: all(b in self.receivers(names) for b in bodies), 90, "every message")
        h.assert_at_least_once(self, self.receivers(names),
                               {b: "alice" if b.endswith("alice") else "pod" for b in bodies})
        status, _ = standby.request("DELETE", f"/api/v1/sessions/{session}")
        self.assertEqual(status, 200)
        h.eventually(lambda: not standby.queues(), 90, "the split to end")
        pod.terminate()
        alice.kill()
        self.assertEqual(self.deployment()["spec"]["template"], self.original["spec"]["template"])
        lease = k.get("lease", "qsplit-leader", self.ns)
        self.assertEqual(lease["spec"]["leaseTransitions"], 1)

    def test_every_replica_forwards_and_a_killed_one_holds_an_end_only_until_it_is_gone(self):
        second = self.start_daemon(name="second", wait_ready=False, data_dir="second-data")
        h.eventually(lambda: "standing by: the lease is held by" in second.log(), 30, "the standby")
        alice = self.run_developer("alice", {"meme-queue": {"author": "^alice$"}})
        pod = self.run_pod()
        # The replica that does not lead forwards the queue too, by the leader's routes.
        h.eventually(lambda: f"queue={self.queues[MEME]} forwarded here too" in second.log(), 30,
                     "the second replica to forward")
        self.assertIn("replica", self.records())
        bodies = self.produce(["alice", "erin"] * 20)
        names = ["alice", "pod"]
        h.eventually(lambda: all(b in self.receivers(names) for b in bodies), 90, "every message")
        h.assert_at_least_once(self, self.receivers(names),
                               {b: "alice" if b.endswith("alice") else "pod" for b in bodies})

        def read(daemon):
            _, text = daemon.get("/metrics", raw=True)
            line = [l for l in text.splitlines() if l.startswith("mirrord_read_sqs_messages_count{") and
                    self.queues[MEME] in l]
            return int(line[0].split()[-1]) if line else 0
        self.assertGreater(read(second), 0, "the second replica read none of the messages")
        # A replica killed mid-session stops confirming; the end waits until the leader counts
        # it gone (a lease duration, 6 s here), then gives the session's queue back as ever.
        second.kill9()
        alice.send_signal(signal.SIGINT)
        self.assertEqual(alice.wait(timeout=60), 0)
        h.eventually(lambda: not self.daemon.queues(), 90, "the split to end")
        pod.terminate()
        log = self.daemon.log()
        gone = re.search(r"replica \S+ is gone: its record did not change for 6 s", log)
        self.assertIsNotNone(gone, log)
        ended = re.search(rf"queue={self.queues[MEME]} session=\d+ ended", log)
        self.assertLess(gone.start(), ended.start(), "the session's queue went before the replica")
        self.assertEqual(self.deployment()["spec"]["template"], self.original["spec"]["template"])
        h.eventually(lambda: not self.temporaries(), 30, "every temporary queue to be deleted")
        h.eventually(lambda: self.records() == [], 60, "the gone replica's record to be removed")

    def test_bad_targets_and_denied_access_get_clear_errors(self):
        def start_error(config):
            path = h.write(os.path.join(self.dir, "bad.json"), json.dumps(config))
            p = self.procs.start([h.QSPLIT, "run", "-f", path, "--", "true"], "bad",
                                 {"QSPLIT_SERVER": self.daemon.url})
            self.assertNotEqual(p.wait(timeout=60), 0)
            return h.read(os.path.join(self.dir, "bad.err"))

        split = {"meme-queue": {"queue_type": "SQS", "message_filter": {"a": "b"}}}
        # A registry naming a workload that is not there.
        k.apply(registry_yaml("ghost"), self.ns)
        err = start_error({"target": "deployment/ghost", "feature": {"split_queues": split}})
        self.assertRegex(err, r'deployment/ghost in namespace .*404 NotFound: deployments.apps "ghost" not found')
        # A target in another namespace: refused, not taken for the same name in this one.
        err = start_error({"target": {"path": f"deployment/{self.name}", "namespace": "elsewhere"},
                           "feature": {"split_queues": split}})
        self.assertIn(f"target.namespace: 'elsewhere', but this qsplitd serves the workloads of "
                      f"namespace '{self.ns}'", err)
        # A variable the workload does not have.
        k.kubectl("set", "env", f"deployment/{self.name}", "-n", self.ns, "-c", "main", f"{MEME}-")
        err = start_error({"target": f"deployment/{self.name}", "feature": {"split_queues": split}})
        self.assertIn(MEME, err)
        self.assertEqual(self.daemon.sessions(), [])
        # No permission: qsplitd with an account RBAC grants nothing says so.
        self.procs.stop_all()
        self.procs = h.Processes(self.dir)
        self.addCleanup(self.procs.stop_all)
        nobody = k.kubeconfig().replace("admin.kubeconfig", "nobody.kubeconfig")
        # Without its store it does not start, and says why.
        storeless = self.procs.start([h.QSPLITD, "-c", self.daemon.config, "--listen", "127.0.0.1:0",
                                      "--kubeconfig", nobody, "--namespace", self.ns], "storeless")
        self.assertEqual(storeless.wait(timeout=60), 2)
        self.assertRegex(h.read(os.path.join(self.dir, "storeless.err")),
                         f"qsplitd: the store in the cluster: listing qsplitrecords.qsplit.dev in "
                         f"namespace {self.ns}: .*403 Forbidden: .*User \"nobody\" cannot list")
        # With its store on disk: without the Lease it may not lead, and says why; without the
        # rest, each call says.
        candidate = self.start_daemon(nobody, name="candidate", wait_ready=False, store="file")
        h.eventually(lambda: 'leases.coordination.k8s.io "qsplit-leader" is forbidden: User "nobody"'
                     in candidate.log(), 30, "the lease's denial in the log")
        self.assertEqual(candidate.get("/readyz", raw=True)[0], 503)
        self.daemon = self.start_daemon(nobody, leader_election=False, store="file")
        err = start_error({"target": f"deployment/{self.name}", "feature": {"split_queues": split}})
        self.assertRegex(err, r'403 Forbidden: deployments.apps "memes" is forbidden: User "nobody"')
        self.assertRegex(self.daemon.log(), r'mirrordworkloadqueueregistries.* is forbidden')


if __name__ == "__main__":
    unittest.main()
