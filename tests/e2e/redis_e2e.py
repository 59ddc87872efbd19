"""What the Redis end-to-end tests share: redis-cli, and tests/support/redis_consumer.py (the
apps and the producer), against the server on `port`; temporary streams of a stream."""
import os
import subprocess

import harness as h

CLIENT = os.path.join(h.SOURCE, "tests/support/redis_consumer.py")


def split_config_yaml(workload, port, kind, queue_id, app_config):
    """A MirrordSplitConfig for `workload` with one queue of `kind` (its appConfig's YAML at the
    keys' indentation), and the property list `redis-staging` for the server on `port`."""
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
    {kind}: redis-staging
  queues:
  - id: {queue_id}
    kind: {kind}
    appConfig:
      {app_config}
---
apiVersion: mirrord.metalbear.co/v1
kind: MirrordPropertyList
metadata:
  name: redis-staging
spec:
  properties:
    - name: host
      value: "127.0.0.1"
    - name: port
      value: "{port}"
"""


class RedisClients:
    """A mixin for a TestCase with `self.port`."""

    def redis(self, *args):
        done = subprocess.run(["redis-cli", "-p", self.port] + list(args), capture_output=True, text=True,
                              timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)
        return done.stdout

    def client(self, *args, stdin=None):
        done = subprocess.run(["python3", CLIENT] + list(args), input=stdin, text=True, capture_output=True,
                              timeout=120, env=dict(os.environ, QSPLIT_REDIS_PORT=self.port))
        self.assertEqual(done.returncode, 0, done.stderr)
        return done.stdout

    def temporaries(self):
        return [s for s in self.client("streams").split() if s.startswith("mirrord-tmp-") and self.stream in s]
