"""The test API server through kubectl, the independent client: applying YAML, reading and
patching objects, and standing in for the controllers it does not run."""
import json
import os
import shutil
import subprocess
import threading
import time

import harness as h

KUBECTL = os.environ.get("QSPLIT_KUBECTL") or "kubectl"
HELM = os.environ.get("QSPLIT_HELM") or "helm"
CHART = os.path.join(h.SOURCE, "deploy/helm/qsplit")
CRDS = os.path.join(h.SOURCE, "deploy/crds")


def kubeconfig():
    return h.require("QSPLIT_KUBECONFIG")


def kubectl(*args, stdin=None, check=True, config=None):
    """Runs kubectl; returns (returncode, stdout, stderr). check: fail the test on an error."""
    p = subprocess.run([KUBECTL, "--kubeconfig", config or kubeconfig(), *args], input=stdin,
                       capture_output=True, text=True, timeout=60)
    if check and p.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)}: {p.stderr}")
    return p.returncode, p.stdout, p.stderr


def shell(script, work_dir):
    """Runs a shell `script` as a user would type it: `kubectl` on its PATH (a link in
    `work_dir`), KUBECONFIG set."""
    bin_dir = os.path.join(work_dir, "bin")
    os.makedirs(bin_dir, exist_ok=True)
    link = os.path.join(bin_dir, "kubectl")
    if not os.path.exists(link):
        os.symlink(shutil.which(KUBECTL), link)
    env = dict(os.environ, KUBECONFIG=kubeconfig(), PATH=bin_dir + os.pathsep + os.environ["PATH"])
    return subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=120)


def get(kind, name, namespace):
    return json.loads(kubectl("get", kind, name, "-n", namespace, "-o", "json")[1])


def apply(yaml_text, namespace=None, check=True):
    args = ["apply", "-f", "-"] + (["-n", namespace] if namespace else [])
    return kubectl(*args, stdin=yaml_text, check=check)


def install_crds():
    # Tests that start together apply the same definitions at once: one of them may lose the
    # race to create one (AlreadyExists), and the next apply finds it and passes.
    for attempt in range(3):
        code, _, err = kubectl("apply", "-f", CRDS, check=False)
        if code == 0:
            break
        if "AlreadyExists" not in err or attempt == 2:
            raise AssertionError(f"kubectl apply -f {CRDS}: {err}")
    kubectl("wait", "--for", "condition=established", "--timeout=60s", "-f", CRDS)


def helm_template(namespace, *sets):
    """The chart rendered by helm, as a list of documents (dicts)."""
    import yaml
    args = [HELM, "template", "qsplit", CHART, "--namespace", namespace]
    for s in sets:
        args += ["--set", s]
    p = subprocess.run(args, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise AssertionError(f"helm template: {p.stderr}")
    return p.stdout, [d for d in yaml.safe_load_all(p.stdout) if d]


def workload_yaml(name, containers, kind="Deployment", strategy=""):
    """A workload of one replica; `containers` is the YAML of its containers' list, indented
    for `spec.template.spec.containers`. kind Rollout: an Argo Rollout."""
    api = "argoproj.io/v1alpha1" if kind == "Rollout" else "apps/v1"
    return f"""apiVersion: {api}
kind: {kind}
metadata:
  name: {name}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: {name}}}}}
{strategy}  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
{containers}"""


def service_account_kubeconfig(namespace, account, path):
    """A kubeconfig that authenticates as `account` with a token the API server issues."""
    token = kubectl("create", "token", account, "-n", namespace)[1].strip()
    text = h.read(kubeconfig()).replace("token: admin-token", f"token: {token}")
    return h.write(path, text)


def namespace(prefix):
    name = h.unique(prefix)
    kubectl("create", "namespace", name)
    return name


class RolloutStandIn(threading.Thread):
    """The test API server runs no controllers and no kubelet, so no pod ever starts: this
    plays them for one Deployment (or another `kind` of workload). For each new template it
    deletes the pod of the last one, creates a Pod object of the new one (never scheduled)
    and marks it Ready, then reports the workload's rollout done in its status, as a real
    rollout ends; it counts the rollouts it saw. ready=False: the new pod never becomes
    ready. pods: how many pods each template gets (its replicas), of which `ready_pods` (all,
    if None) become Ready. generation_as_string: write observedGeneration as a string, as
    Argo Rollouts releases before its issue #3402 do."""

    def __init__(self, name, ns, kind="deployment", generation_as_string=False, ready=True,
                 pods=1, ready_pods=None):
        super().__init__(daemon=True)
        self.name, self.ns, self.kind = name, ns, kind
        self.as_string = generation_as_string
        self.pods = pods
        self.ready_pods = (pods if ready else 0) if ready_pods is None else ready_pods
        self.rollouts = []
        self.done = threading.Event()

    def start_pod(self, workload, generation, last):
        template = workload["spec"]["template"]
        for i in range(self.pods):
            suffix = "" if i == 0 else f"-{i}"
            pod = {"apiVersion": "v1", "kind": "Pod", "spec": template["spec"],
                   "metadata": {"name": f"{self.name}-{generation}{suffix}",
                                "labels": template["metadata"]["labels"]}}
            if last is not None:
                kubectl("delete", "pod", f"{self.name}-{last}{suffix}", "-n", self.ns,
                        "--wait=false", check=False)
            kubectl("create", "-n", self.ns, "-f", "-", stdin=json.dumps(pod))
            if i < self.ready_pods:
                status = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
                kubectl("patch", "pod", pod["metadata"]["name"], "-n", self.ns,
                        "--subresource=status", "--type=merge", "-p", json.dumps({"status": status}))

    def run(self):
        while not self.done.is_set():
            d = get(self.kind, self.name, self.ns)
            generation = d["metadata"]["generation"]
            observed = str(generation) if self.as_string else generation
            if d.get("status", {}).get("observedGeneration") != observed:
                # Counted before its pod is ready: qsplitd may see the pod, and the test this
                # count, before the workload's status below is written.
                last = self.rollouts[-1] if self.rollouts else None
                self.rollouts.append(generation)
                self.start_pod(d, generation, last)
                ready = self.ready_pods
                status = {"observedGeneration": observed, "replicas": self.pods,
                          "updatedReplicas": self.pods,
                          "readyReplicas": ready, "availableReplicas": ready}
                kubectl("patch", self.kind, self.name, "-n", self.ns, "--subresource=status",
                        "--type=merge", "-p", json.dumps({"status": status}))
            time.sleep(0.3)

    def stop(self):
        self.done.set()
        self.join()
