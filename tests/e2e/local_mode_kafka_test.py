"""End to end, local mode, on a real Apache Kafka broker: qsplitd with a
MirrordKafkaTopicsConsumer, a deployed kcat consumer under `qsplit exec`, a developer's kcat
under `qsplit run`, kcat producing with headers; per record, who received it. Also a Kafka
Streams workload (`applicationIdSources`): kcat with the application id as its group, and a
real Kafka Streams app."""
import os
import signal
import unittest

import harness as h
from harness import topic_tool


class KafkaCase(unittest.TestCase):
    """The set-up and steps both kinds of workload share; the kind is the resource's field
    that names the consumer group's variable."""
    ID_SOURCES, ID_VAR = "groupIdSources", "GROUP"
    DAEMON_CONFIG = """kafka: {enabled: true}
sessions: {unused_ttl: 6}
splitting: {linger_timeout: 30}
"""

    def setUp(self):
        self.bootstrap = h.require("QSPLIT_KAFKA_BOOTSTRAP")
        self.dir = h.tempdir("kafka")
        self.procs = h.Processes(self.dir)
        self.addCleanup(self.procs.stop_all)
        self.workload = h.unique("views-app")
        self.topic = h.unique("views")
        topic_tool(self.bootstrap, "create", self.topic, "2")
        resources = os.path.join(self.dir, "resources")
        os.makedirs(resources)
        h.write(os.path.join(resources, "topics.yaml"), h.kafka_resources_yaml(
            self.workload, self.bootstrap, "local", "mirrord", self.ID_SOURCES, self.ID_VAR))
        self.daemon = h.Daemon(self.procs, self.dir, self.DAEMON_CONFIG, resources).start()
        self.env = {"QSPLIT_SERVER": self.daemon.url, "BOOT": self.bootstrap}

    def kcat_consumer(self, out):
        return h.kcat_consumer(self.ID_VAR, out)  # the group's variable as qsplit patches it

    def produce(self, author, bodies):
        h.kcat_produce(self.bootstrap, self.topic, author, bodies)

    def received(self, who):
        return h.kcat_received(os.path.join(self.dir, who + ".out"))

    def start_workload(self):
        group = h.unique("views-group")
        self.procs.start([h.QSPLIT, "exec", "--workload", f"deployment/{self.workload}", "--grace", "10",
                          "--"] + self.kcat_consumer(os.path.join(self.dir, "workload.out")),
                         "exec", dict(self.env, TOPIC=self.topic, **{self.ID_VAR: group}))
        h.eventually(lambda: any(w["running"] for w in self.daemon.get("/api/v1/workloads")[1]["workloads"]),
                     30, "qsplit exec to register")
        return group

    def start_workload_and_alice(self):
        group = self.start_workload()
        config = h.write(os.path.join(self.dir, "alice.json"),
                         h.user_config(self.workload, "views", {"author": "^alice$"}).replace('"SQS"', '"Kafka"'))
        alice = self.procs.start([h.QSPLIT, "run", "-f", config, "--"] +
                                 self.kcat_consumer(os.path.join(self.dir, "alice.out")),
                                 "alice", self.env)
        session = h.eventually(lambda: [s for s in self.daemon.sessions() if s["state"] != "starting"],
                               120, "alice's session to be ready")[0]
        self.assertTrue(session["env"]["TOPIC"].startswith("mirrord-tmp-"), session)
        self.check_id(session["env"][self.ID_VAR], group, session["env"]["TOPIC"])
        return alice, session

    def check_id(self, hers, workloads, her_topic):
        # Her process reads with the workload's group, as under mirrord (it has the target's
        # environment): that group's position on her topic is what "unread" means at the end.
        self.assertEqual(hers, workloads)

    def records_reach_their_readers_and_the_workload_goes_back_to_the_original(self):
        alice, _ = self.start_workload_and_alice()

        mine = [f"a-{i}" for i in range(100)]
        theirs = [f"b-{i}" for i in range(100)]
        self.produce("alice", mine)
        self.produce("bob", theirs)
        h.eventually(lambda: set(mine) <= set(self.received("alice")) and
                     set(theirs) <= set(self.received("workload")), 120, "the records to arrive")
        # Exactly once: each record in one place, once.
        self.assertEqual(sorted(self.received("alice")), sorted(mine))
        self.assertEqual(sorted(self.received("workload")), sorted(theirs))

        alice.send_signal(signal.SIGINT)
        self.assertEqual(alice.wait(timeout=120), 0)
        h.eventually(lambda: not self.daemon.queues(), 120, "the split to be restored")
        after = [f"c-{i}" for i in range(50)]
        self.produce("alice", after)  # nobody splits now: the workload reads the original
        h.eventually(lambda: set(after) <= set(self.received("workload")), 120, "the workload to read the original")
        # It goes on from where the forwarder stopped in its group, not from the beginning.
        self.assertEqual(sorted(self.received("workload")), sorted(theirs + after))
        left = [t for t in topic_tool(self.bootstrap, "list") if t.startswith("mirrord-") and self.topic in t]
        self.assertEqual(left, [])


class LocalModeKafka(KafkaCase):
    def test_a_developer_gets_her_records_and_the_workload_the_rest(self):
        self.records_reach_their_readers_and_the_workload_goes_back_to_the_original()

    def test_kill9_of_qsplitd_resumes_the_topic_split(self):
        alice, session = self.start_workload_and_alice()
        mine, theirs = [f"a-{i}" for i in range(300)], [f"b-{i}" for i in range(300)]
        self.produce("alice", mine[:150])
        self.produce("bob", theirs[:150])
        h.eventually(lambda: len(self.received("alice")) + len(self.received("workload")) > 50,
                     60, "records to flow")
        self.daemon.kill9()
        self.produce("alice", mine[150:])  # produced while qsplitd is down
        self.produce("bob", theirs[150:])
        self.daemon.start()  # the same port and store
        self.assertEqual([s["id"] for s in self.daemon.sessions()], [session["id"]])
        h.eventually(lambda: set(mine) <= set(self.received("alice")) and
                     set(theirs) <= set(self.received("workload")), 120, "every record after the restart")
        self.assertEqual(set(self.received("alice")), set(mine))
        self.assertEqual(set(self.received("workload")), set(theirs))
        # Exactly once: each batch is one transaction with the source offsets.
        self.assertEqual(sorted(self.received("alice")), sorted(mine))
        self.assertEqual(sorted(self.received("workload")), sorted(theirs))
        alice.send_signal(signal.SIGINT)
        self.assertEqual(alice.wait(timeout=120), 0)
        h.eventually(lambda: not self.daemon.queues(), 120, "the split to be restored")


class LocalModeKafkaStreams(KafkaCase):
    """A Kafka Streams app: its application id is its consumer group. qsplit reads the
    original as that application; the workload and each developer get a fresh application id,
    the name of the topic they read, so none of them joins the group qsplit reads with. The
    workload's group must still find the original where qsplit left it, and the fallback must
    be drained by the workload's fresh id (read by the old id, the drain would wait out the
    linger timeout and give the workload its records twice)."""
    ID_SOURCES, ID_VAR = "applicationIdSources", "APPLICATION_ID"

    def check_id(self, hers, workloads, her_topic):
        self.assertEqual(hers, her_topic)
        # The workload runs as the fallback topic's application, and reads that topic.
        env = self.daemon.get("/api/v1/workloads")[1]["workloads"][0]["env"]
        fallback = self.daemon.queues()[0]["fallback"]
        self.assertEqual((env["TOPIC"], env[self.ID_VAR]), (fallback, fallback))

    def test_each_reader_gets_a_fresh_application_id_and_the_workload_its_own_back(self):
        self.records_reach_their_readers_and_the_workload_goes_back_to_the_original()


class LocalModeKafkaStreamsApp(LocalModeKafkaStreams):
    """The same with a real Kafka Streams app (tests/e2e/streams/SplitReader.java, built by
    scripts/kafka.sh) as the workload and as the developer's process: its consumer group is
    its application id, it commits on its own schedule, and qsplit exec stops it with SIGTERM
    when the workload is patched and restored."""

    def test_each_reader_gets_a_fresh_application_id_and_the_workload_its_own_back(self):
        super().test_each_reader_gets_a_fresh_application_id_and_the_workload_its_own_back()
        # Her app closed without leaving its group: the mover did not wait for the member to
        # time out, but read her topic on as a new group from her group's offsets.
        log = self.daemon.log()
        self.assertRegex(log, r"Inconsistent group protocol; reading on as group qsplit-from-mirrord-tmp-")
        self.assertNotIn("trying again for up to", log)

    def kcat_consumer(self, out):
        classpath = h.require("QSPLIT_KAFKA_STREAMS_CLASSPATH")
        return ["java", "-Xmx128m", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-cp", classpath, "SplitReader", out]


if __name__ == "__main__":
    unittest.main(verbosity=2)
