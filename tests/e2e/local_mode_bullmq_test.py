"""End to end, local mode, on a real Redis with the real bullmq package: a MirrordSplitConfig with
a bullMq queue, the deployed workload a BullMQ Worker under `qsplit exec` (restarted on each patch
as a rollout would), developers' Workers under `qsplit run`, and a BullMQ Queue adding jobs all
the while (tests/support/bullmq_client.js). Each job is processed once, by the Worker its filters
name; jobs an ended session left go back to be routed again; nothing is lost through the patch,
the restore or a kill -9 of qsplitd; and no key of a temporary queue is left."""
import json
import os
import signal
import time
import unittest

import harness as h
from bullmq_e2e import BullmqClients, consumer, job
from redis_e2e import split_config_yaml

QUEUE_VAR = "EMAIL_QUEUE"


class LocalModeBullmq(BullmqClients, unittest.TestCase):
    def setUp(self):
        self.port = h.require("QSPLIT_REDIS_PORT")
        self.dir = h.tempdir(self.id().split(".")[-1])
        self.procs = h.Processes(self.dir)
        self.addCleanup(lambda: self.procs.stop_all())
        self.workload = h.unique("mailer")
        self.queue = h.unique("emails")
        self.env = self.node_env()
        self.node("open", self.queue)  # the application's Queue has opened it
        resources = os.path.join(self.dir, "resources")
        os.makedirs(resources, exist_ok=True)
        h.write(os.path.join(resources, "mailer.yaml"),
                split_config_yaml(self.workload, self.port, "bullMq", "emails", f"""queue:
      - env: {QUEUE_VAR}"""))
        self.start_daemon("redis:\n  enabled: true\n")

    def start_daemon(self, config):
        self.daemon = h.Daemon(self.procs, self.dir, config, os.path.join(self.dir, "resources")).start()
        self.env["QSPLIT_SERVER"] = self.daemon.url
        h.exec_workload(self.procs, self.daemon, dict(self.env, **{QUEUE_VAR: self.queue}), self.workload,
                        consumer(QUEUE_VAR, os.path.join(self.dir, "workload.jsonl")))

    def run_developer(self, name, split):
        config = h.write(os.path.join(self.dir, name + ".json"), json.dumps({
            "target": f"deployment/{self.workload}",
            "feature": {"split_queues": {"emails": dict({"queue_type": "BullMQ"}, **split)}}}))
        command = consumer(QUEUE_VAR, os.path.join(self.dir, name + ".jsonl"))
        return h.run_session(self.procs, self.daemon, config, command, name, self.env)

    def received(self):
        """seq -> every Worker that processed it (a list: a job processed twice shows twice)."""
        return h.received_by(self.seqs)

    def produce(self):
        """A BullMQ Queue adding numbered jobs, 20 every 50 ms."""
        return h.Producer(lambda seqs: self.add([job(s) for s in seqs]))

    def test_each_job_is_processed_once_by_the_worker_its_filters_name(self):
        producer = self.produce()
        alice, _ = self.run_developer("alice", {"message_filter": {"tenant": "^alice$"}})
        bob, _ = self.run_developer("bob", {"jq_filter": '.kind == "refund"'})
        h.eventually(lambda: len(self.seqs("bob")) > 40, 60, "bob to process refunds")
        steady_from = producer.seq
        # A delayed job for alice keeps its due time through the split.
        self.add([dict(job(1_000_000 * 3, delay=3000), name="later")])
        time.sleep(1.0)
        steady_to = producer.seq
        bob.send_signal(signal.SIGINT)  # Ctrl-C ends bob's session: his unprocessed jobs go back
        self.assertEqual(bob.wait(timeout=60), 0)
        h.eventually(lambda: 3_000_000 in self.seqs("alice"), 30, "alice to process the delayed job")
        alice.send_signal(signal.SIGINT)
        self.assertEqual(alice.wait(timeout=60), 0)
        h.eventually(lambda: not self.daemon.queues(), 120, "the split to be restored")
        restored_at = producer.seq
        time.sleep(0.5)
        total = producer.stop()
        h.eventually(lambda: len(self.received()) >= total + 1, 60, "every job to be processed")

        got = self.received()

        def expected(seq):
            d = job(seq)["data"]
            return "alice" if d["tenant"] == "alice" else "bob" if d["kind"] == "refund" else "workload"
        lost = [s for s in range(total) if s not in got]
        twice = {s: w for s, w in got.items() if len(w) > 1}
        misrouted = {s: got[s] for s in range(steady_from, steady_to) if got.get(s) != [expected(s)]}
        wrong = {s: w for s, w in got.items() if s < total and ("alice" in w or "bob" in w) and expected(s) not in w}
        after = {s: got[s] for s in range(restored_at, total) if got.get(s) != ["workload"]}
        self.assertEqual((lost, twice, misrouted, wrong, after), ([], {}, {}, {}, {}),
                         "lost, processed twice, misrouted while both split, a developer's that was not "
                         "theirs, and not the workload's after the restore")
        later = [j for j in self.jobs("alice") if j["name"] == "later"][0]
        self.assertGreaterEqual(later["processedOn"], later["timestamp"] + 3000, "processed before it was due")
        self.assertEqual(later["opts"]["delay"], 3000)
        self.assertEqual([j["opts"].get("attempts") for j in self.jobs("alice") if j["name"] == "send"][:1], [2])
        h.eventually(lambda: not self.temporaries(), 30, "every key of the temporary queues to be deleted")

    def test_kill9_of_qsplitd_mid_stream_loses_no_job(self):
        alice, session = self.run_developer("alice", {"message_filter": {"tenant": "^alice$"}})
        producer = self.produce()
        h.eventually(lambda: len(self.seqs("alice")) > 20, 60, "alice to process jobs")
        self.daemon.kill9()
        time.sleep(0.5)
        self.daemon.start()  # the same port and store: the session resumes
        self.assertEqual([s["id"] for s in self.daemon.sessions()], [session])
        h.eventually(lambda: len(self.seqs("alice")) > 100, 90, "jobs after the restart")
        total = producer.stop()
        # A job qsplitd held when it was killed is taken again once its lock (30 s) expired.
        h.eventually(lambda: all(s in self.received() for s in range(total)), 120, "every job to be processed")
        got = self.received()
        self.assertEqual({s: w for s, w in got.items() if len(w) > 1}, {}, "processed twice")
        self.assertTrue(all(s % 3 == 0 for s in self.seqs("alice")))
        self.assertTrue(all(s % 3 != 0 for s in self.seqs("workload")))
        h.end_last_session(self, alice, self.daemon, self.temporaries,
                           "every key of the temporary queues to be deleted", restore_within=120)

    def test_bullmq_off_a_bad_queue_config_and_jq_time_limit(self):
        self.procs.stop_all()
        self.procs = h.Processes(self.dir)
        self.start_daemon("redis:\n  enabled: true\n  bullmq: false\n")
        config = h.write(os.path.join(self.dir, "alice.json"), json.dumps({
            "target": f"deployment/{self.workload}",
            "feature": {"split_queues": {"emails": {"queue_type": "BullMQ",
                                                    "message_filter": {"tenant": "^alice$"}}}}}))

        def refused():
            return h.refused_run(self, config, self.env)
        self.assertIn("queue id 'emails' is BullMQ, and BullMQ splitting is not enabled in qsplitd", refused())
        self.procs.stop_all()
        self.procs = h.Processes(self.dir)
        resources = os.path.join(self.dir, "resources", "mailer.yaml")
        h.write(resources, h.read(resources).replace("    appConfig:", "    queueConfig: tuning\n    appConfig:") + """---
apiVersion: mirrord.metalbear.co/v1
kind: MirrordPropertyList
metadata:
  name: tuning
spec:
  properties:
    - name: dequeue_timeout
      value: "soon"
""")
        self.start_daemon("redis:\n  enabled: true\n")
        self.assertIn(f"MirrordSplitConfig {self.workload}: queue emails: queueConfig: dequeue_timeout: 'soon' is "
                      "not a whole number of seconds from 1", refused())

        # jq_time_limit bounds this queue's jq_filters in place of qsplitd's 200 ms.
        self.procs.stop_all()
        self.procs = h.Processes(self.dir)
        h.write(resources, h.read(resources).replace('value: "soon"', 'value: "5"').replace(
            "name: dequeue_timeout", "name: jq_time_limit"))
        self.start_daemon("redis:\n  enabled: true\n")
        alice, _ = self.run_developer("alice", {"jq_filter": "reduce range(100000000) as $i (0; . + $i) > 0"})
        self.add([job(0)])
        h.eventually(lambda: "ran longer than the 5 ms limit" in self.daemon.log(), 60,
                     "the filter to be switched off at 5 ms")
        h.eventually(lambda: self.seqs("workload") == [0], 60, "the job to reach the workload")
        alice.send_signal(signal.SIGINT)
        self.assertEqual(alice.wait(timeout=60), 0)


if __name__ == "__main__":
    unittest.main()
