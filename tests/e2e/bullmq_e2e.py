"""What the BullMQ end-to-end tests share: the bullmq package's own Queue and Worker, through
tests/support/bullmq_client.js on node (NODE_PATH from scripts/bullmq.sh), against the Redis on
`self.port`."""
import json
import os
import subprocess

import harness as h

CLIENT = os.path.join(h.SOURCE, "tests/support/bullmq_client.js")


def node_path():
    done = subprocess.run([os.path.join(h.SOURCE, "scripts/bullmq.sh"), "dir"], capture_output=True, text=True,
                          check=True, timeout=300)
    return done.stdout.strip()


def job(seq, delay=None):
    """Job `seq`: tenant alice, bob or carol in turn, kind order or refund every three."""
    data = {"seq": seq, "tenant": ["alice", "bob", "carol"][seq % 3], "kind": ["order", "refund"][seq // 3 % 2]}
    return {"name": "send", "data": data, "opts": {"delay": delay} if delay else {"attempts": 2}}


def consumer(variable, out):
    """The command of an app whose Worker processes the queue named by $variable into `out`."""
    return ["node", CLIENT, "consume", variable, out]


class BullmqClients:
    """A mixin for a TestCase with `self.port`, `self.queue` and `self.dir`."""

    def node_env(self):
        return {"QSPLIT_REDIS_PORT": self.port, "NODE_PATH": node_path()}

    def node(self, *args, stdin=None):
        done = subprocess.run(["node", CLIENT] + list(args), input=stdin, capture_output=True, text=True,
                              env=dict(os.environ, **self.node_env()), timeout=120)
        self.assertEqual(done.returncode, 0, done.stderr)
        return done.stdout.split()

    def add(self, jobs):
        self.node("add", self.queue, stdin="".join(json.dumps(j) + "\n" for j in jobs))

    def jobs(self, who):
        path = os.path.join(self.dir, who + ".jsonl")
        return h.read_jsonl(path) if os.path.exists(path) else []

    def seqs(self, who):
        return [j["data"]["seq"] for j in self.jobs(who)]

    def temporaries(self):
        return [q for q in self.node("queues") if q.startswith("mirrord-tmp-") and self.queue in q]
