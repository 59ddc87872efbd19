"""Running qsplitd, `qsplit exec`, `qsplit run` and boto3 as a user would, for the end-to-end
tests. Every process started here is stopped by PID when the test ends."""
import json
import os
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid

BUILD = os.environ["QSPLIT_BUILD_DIR"]
SOURCE = os.environ["QSPLIT_SOURCE_DIR"]
QSPLITD = os.path.join(BUILD, "apps/qsplitd/qsplitd")
QSPLIT = os.path.join(BUILD, "apps/qsplit/qsplit")
CONSUMER = os.path.join(SOURCE, "tests/support/queue_consumer.py")


def require(variable):
    """The broker address the test scripts exported; a missing broker fails under
    QSPLIT_REQUIRE_BROKERS=1 and skips otherwise."""
    value = os.environ.get(variable)
    if value:
        return value
    if os.environ.get("QSPLIT_REQUIRE_BROKERS") == "1":
        raise AssertionError(f"{variable} is not set: start the brokers with scripts/<broker>.sh "
                             "start (make test does)")
    import unittest
    raise unittest.SkipTest(f"{variable} is not set")


def elasticmq(test):
    """ElasticMQ's endpoint and a boto3 client for `test`, with the environment the consumers
    (tests/support/queue_consumer.py) and qsplitd read; sets test.dir and test.procs too."""
    return sqs_server(test, "QSPLIT_ELASTICMQ_ENDPOINT")


def sqs_server(test, variable):
    """elasticmq() for the SQS server whose endpoint is in `variable`."""
    import boto3
    endpoint = require(variable)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "x")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "x")
    os.environ.setdefault("AWS_REGION", "us-east-1")
    os.environ["QSPLIT_SQS_TEST_ENDPOINT"] = endpoint
    test.dir = tempdir(test.id().split(".")[-1])
    test.procs = Processes(test.dir)
    test.addCleanup(lambda: test.procs.stop_all())
    return endpoint, boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1")


def eventually(check, timeout=60, what="the condition"):
    until = time.time() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.time() > until:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.2)


def assert_at_least_once(test, got, wanted):
    """Checks a delivery that is at least once (SQS standard queues, AMQP acknowledgements):
    a message may arrive twice, and an SQS server may even hand one message to two concurrent
    ReceiveMessage calls (moto does under load), so a second copy is counted, not failed.
    `got` maps each body to every consumer that received a copy of it, `wanted` each body to
    the one consumer the rules name. Fails when a message reached nobody or a copy reached
    another consumer; prints and returns the number of duplicates."""
    lost = sorted(b for b in wanted if not got.get(b))
    misrouted = {b: got[b] for b, want in wanted.items() if got.get(b) and set(got[b]) != {want}}
    test.assertEqual((lost, misrouted), ([], {}), "lost, and misrouted (body: who received it)")
    duplicates = sum(len(got[b]) - 1 for b in wanted)
    print(f"{test.id()}: {len(wanted)} messages, none lost or misrouted, {duplicates} duplicates",
          file=sys.stderr)
    return duplicates


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class Processes:
    """Children of the test, stopped (SIGTERM, then SIGKILL) at the end."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.children = []

    def start(self, args, name, env=None, clean_exit=False):
        """clean_exit: the process must exit with 0 when stopped (a sanitizer report, a crash
        or a leak at exit fails the test)."""
        full = dict(os.environ)
        full.update(env or {})
        full = {k: v for k, v in full.items() if v is not None}  # None: not in its environment
        with open(os.path.join(self.workdir, name + ".err"), "ab") as err:
            p = subprocess.Popen(args, env=full, stdout=err, stderr=err)
        p.clean_exit, p.name = clean_exit, name
        self.children.append(p)
        return p

    def stop_all(self):
        for p in reversed(self.children):
            if p.poll() is None:
                p.terminate()
        unclean = []
        for p in self.children:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            if p.clean_exit and p.returncode != 0:
                unclean.append(f"{p.name} exited with {p.returncode}")
        if unclean:
            raise AssertionError("; ".join(unclean) + f" (logs in {self.workdir})")


def read(path):
    with open(path) as f:
        return f.read()


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def write_bytes(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


def registry_yaml(workload, queue_id, variable, extra="", queue_type="SQS"):
    return f"""apiVersion: queues.mirrord.metalbear.co/v1alpha
kind: MirrordWorkloadQueueRegistry
metadata:
  name: {workload}-registry
spec:
  queues:
    {queue_id}:
      queueType: {queue_type}
      nameSource:
        envVar: {variable}
{extra}  consumer:
    name: {workload}
    container: main
    workloadType: Deployment
"""


def topic_tool(*args):
    """The project's Kafka topic tool (create, list, ...); its output split in words."""
    return subprocess.run([os.environ["QSPLIT_KAFKA_TOPIC_TOOL"]] + list(args), check=True,
                          capture_output=True, text=True, timeout=60).stdout.split()


def kafka_resources_yaml(workload, bootstrap, client, client_namespace=None,
                         id_sources="groupIdSources", id_variable="GROUP"):
    """A MirrordKafkaClientConfig named `client` and the MirrordKafkaTopicsConsumer of
    `workload`: topic id `views`, its name in $TOPIC and its consumer group in the given
    variable of container `main`."""
    namespace = f", namespace: {client_namespace}" if client_namespace else ""
    return f"""apiVersion: queues.mirrord.metalbear.co/v1alpha
kind: MirrordKafkaClientConfig
metadata: {{name: {client}{namespace}}}
spec:
  properties:
    - {{name: bootstrap.servers, value: "{bootstrap}"}}
---
apiVersion: queues.mirrord.metalbear.co/v1alpha
kind: MirrordKafkaTopicsConsumer
metadata: {{name: {workload}-topics}}
spec:
  consumerApiVersion: apps/v1
  consumerKind: Deployment
  consumerName: {workload}
  topics:
  - id: views
    clientConfig: {client}
    nameSources: [{{directEnvVar: {{container: main, variable: TOPIC}}}}]
    {id_sources}: [{{directEnvVar: {{container: main, variable: {id_variable}}}}}]
"""


def kcat_consumer(group_variable, out, form="%h|%s\\n"):
    """kcat as a group consumer of the topic $TOPIC names, in the group the variable names;
    one line per record, `headers|body` (or `form`). (Not `-o beginning`: with -G, kcat
    applies it at every assignment, so each rebalance would read everything again.)"""
    return ["sh", "-c", f'exec kcat -b "$BOOT" -G "${group_variable}" -X auto.offset.reset=earliest -u -q '
                        f'-X log_level=3 -f "{form}" "$TOPIC" >> {out}']


def kcat_sized_received(path):
    """The payloads a kcat_consumer with form `%R%s` wrote to `path`: each a 4-byte
    big-endian size, then the bytes."""
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        data, payloads = f.read(), []
    while len(data) >= 4:
        size = int.from_bytes(data[:4], "big")
        if len(data) < 4 + size:
            break
        payloads.append(data[4:4 + size])
        data = data[4 + size:]
    return payloads


def kcat_received(path):
    """The bodies kcat_consumer wrote to `path`."""
    if not os.path.exists(path):
        return []
    return [line.rstrip("\n").split("|", 1)[1] for line in read(path).splitlines() if "|" in line]


def kcat_produce(bootstrap, topic, author, bodies):
    subprocess.run(["kcat", "-P", "-b", bootstrap, "-t", topic, "-H", f"author={author}"],
                   input="\n".join(bodies) + "\n", text=True, check=True, timeout=60)


def exec_workload(procs, daemon, env, workload, command):
    """`qsplit exec` running `command` as the deployed `workload`, once qsplitd knows it."""
    p = procs.start([QSPLIT, "exec", "--workload", f"deployment/{workload}", "--grace", "5",
                     "--"] + command, "exec", env)
    eventually(lambda: any(w["running"] for w in daemon.get("/api/v1/workloads")[1]["workloads"]),
               30, "qsplit exec to register")
    return p


def run_session(procs, daemon, config, command, name, env):
    """`qsplit run -f config -- command` as developer `name`; returns the process and its session's
    id once the session is ready."""
    before = {s["id"] for s in daemon.sessions()}
    p = procs.start([QSPLIT, "run", "-f", config, "--"] + command, name, env)
    sessions = eventually(lambda: [s for s in daemon.sessions()
                                   if s["id"] not in before and s["state"] != "starting"],
                          120, f"{name}'s session to be ready")
    return p, sessions[0]["id"]


class Producer:
    """send(seqs) with the next `batch` numbers every `every` seconds, on a thread of its own,
    until stop(), which returns how many were sent."""

    def __init__(self, send, batch=20, every=0.05):
        self.send, self.batch, self.every = send, batch, every
        self.seq, self.running = 0, True
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while self.running:
            self.send(range(self.seq, self.seq + self.batch))
            self.seq += self.batch
            time.sleep(self.every)

    def stop(self):
        self.running = False
        self.thread.join()
        return self.seq


def received_by(seqs, names=("workload", "alice", "bob")):
    """seq -> every consumer of `names` that got it (one that got it twice shows twice);
    seqs(name) lists what one got."""
    got = {}
    for who in names:
        for seq in seqs(who):
            got.setdefault(seq, []).append(who)
    return got


def end_last_session(test, run, daemon, temporaries, what, restore_within=180):
    """Ctrl-C to `qsplit run` of the last session: it exits 0, the split is restored and
    `temporaries()` is empty soon after (`what` names what must be deleted)."""
    run.send_signal(signal.SIGINT)
    test.assertEqual(run.wait(timeout=120), 0)
    eventually(lambda: not daemon.queues(), restore_within, "the split to be restored")
    eventually(lambda: not temporaries(), 30, what)


def refused_run(test, config, env):
    """`qsplit run -f config -- true`, which must fail: what it printed on stderr."""
    run = subprocess.run([QSPLIT, "run", "-f", config, "--", "true"], env=dict(os.environ, **env),
                         capture_output=True, text=True, timeout=120)
    test.assertNotEqual(run.returncode, 0)
    return run.stderr


def user_config(workload, queue_id, message_filter, mode=None):
    entry = {"queue_type": "SQS", "message_filter": message_filter}
    if mode:
        entry["queue_mode"] = mode
    return json.dumps({"target": f"deployment/{workload}",
                       "feature": {"split_queues": {queue_id: entry}}})


class Daemon:
    """qsplitd on a free port (the same port again after restart())."""

    def __init__(self, procs, workdir, config_yaml, resources, tokens=None, ca_file=None,
                 args=(), data_dir=None, name="qsplitd", env=None):
        self.procs, self.workdir, self.resources, self.tokens = procs, workdir, resources, tokens
        self.env = env  # over the test's own (None: a variable it must not have)
        self.args = list(args)  # more flags (Kubernetes mode: --kubeconfig, --namespace)
        self.data_dir = data_dir or os.path.join(workdir, "data")
        self.ca_file = ca_file  # set when qsplitd serves https with a certificate it signs
        self.name = name  # its files in the workdir: NAME.yaml, NAME.port, NAME.err
        self.config = write(os.path.join(workdir, name + ".yaml"), config_yaml)
        self.port = 0
        self.process = None

    def start(self, wait_ready=True):
        port_file = os.path.join(self.workdir, self.name + ".port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        args = [QSPLITD, "-c", self.config, "--data-dir", self.data_dir,
                "--listen", f"127.0.0.1:{self.port}", "--port-file", port_file] + self.args
        if self.resources:
            args += ["--resources", self.resources]
        if self.tokens:
            args += ["--tokens", self.tokens]
        self.process = self.procs.start(args, self.name, self.env, clean_exit=True)
        eventually(lambda: os.path.exists(port_file) or self.process.poll() is not None,
                   30, "qsplitd to listen")
        if self.process.poll() is not None:
            raise AssertionError("qsplitd exited: " + self.log())
        self.port = int(read(port_file))
        if wait_ready:
            eventually(lambda: self.get("/readyz", raw=True)[0] == 200, 60, "qsplitd to be ready")
        return self

    def kill9(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.process.clean_exit = False  # killed on purpose

    def log(self):
        return read(os.path.join(self.workdir, self.name + ".err"))

    @property
    def url(self):
        return f"{'https' if self.ca_file else 'http'}://127.0.0.1:{self.port}"

    def request(self, method, path, body=None, token=None, raw=False, data=None):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = "Bearer " + token
        if data is None and body is not None:
            data = json.dumps(body).encode()
        if data is None and method in ("POST", "PUT"):
            data = b"{}"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            context = ssl.create_default_context(cafile=self.ca_file) if self.ca_file else None
            with urllib.request.urlopen(req, timeout=120, context=context) as r:
                status, text = r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode()
        except (urllib.error.URLError, ConnectionError) as e:
            status, text = 0, str(e)
        if raw:
            return status, text
        return status, (json.loads(text) if text.strip().startswith(("{", "[")) else text)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def sessions(self, token=None):
        status, body = self.get("/api/v1/sessions", token=token)
        assert status == 200, body
        return body["sessions"]

    def queues(self, token=None):
        status, body = self.get("/api/v1/queues", token=token)
        assert status == 200, body
        return body["queues"]


def read_jsonl(path):
    if not os.path.exists(path):
        return []
    out = []
    with open(path) as f:
        for line in f:
            if line.endswith("\n"):
                out.append(json.loads(line))
    return out


def copies(directory, names):
    """body -> [(consumer, record)], one pair per copy received, from the NAME.jsonl files
    that tests/support/queue_consumer.py (or a client like it) wrote in `directory`."""
    got = {}
    for who in names:
        for m in read_jsonl(os.path.join(directory, who + ".jsonl")):
            got.setdefault(m["body"], []).append((who, m))
    return got


def receivers(directory, names):
    """body -> every consumer that received a copy of it (once per copy)."""
    return {body: [who for who, _ in pairs] for body, pairs in copies(directory, names).items()}


def tempdir(name):
    return tempfile.mkdtemp(prefix=f"qsplit-{name}-")
