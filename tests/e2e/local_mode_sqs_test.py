"""End to end, local mode, on ElasticMQ: qsplitd, a deployed consumer under `qsplit exec`,
developers under `qsplit run`, and boto3 producing; per message, who received it.

Sessions end by the command exiting, by a signal (as Ctrl-C), and by a killed client (the
unused TTL); then qsplitd is killed with -9 while messages flow and restarted. On moto, a
queue subscribed to an SNS topic is split by the SNS attributes inside its bodies, and a queue
S3 sends its events to by the user metadata of the objects they name."""
import json
import os
import re
from urllib.parse import unquote_plus
import signal
import threading
import time
import unittest


import harness as h

VAR = "INCOMING_MEME_QUEUE_NAME"


class SqsUsers(unittest.TestCase):
    """qsplitd on one SQS server, and the processes its users run; no test of its own."""
    ENDPOINT = "QSPLIT_ELASTICMQ_ENDPOINT"
    REGISTRY_EXTRA = ""  # more fields of the registry's queue, indented six spaces

    def setUp(self):
        self.endpoint, self.sqs = h.sqs_server(self, self.ENDPOINT)
        self.workload = h.unique("memes")
        self.queue = h.unique("meme-queue")
        self.queue_url = self.sqs.create_queue(QueueName=self.queue)["QueueUrl"]
        resources = os.path.join(self.dir, "resources")
        os.makedirs(resources)
        h.write(os.path.join(resources, "registry.yaml"),
                h.registry_yaml(self.workload, "meme-queue", VAR, self.REGISTRY_EXTRA))
        self.daemon = h.Daemon(self.procs, self.dir, f"""sqs:
  endpoint: {self.endpoint}
  s3_endpoint: {self.endpoint}
  pollers: 2
sessions:
  unused_ttl: 6
splitting:
  linger_timeout: 20
""", resources).start()
        self.env = {"QSPLIT_SERVER": self.daemon.url}

    # --- processes as users run them ---

    def exec_workload(self):
        out = os.path.join(self.dir, "workload.jsonl")
        env = dict(self.env, **{VAR: self.queue})
        return h.exec_workload(self.procs, self.daemon, env, self.workload,
                               ["python3", h.CONSUMER, VAR, out])

    def run_developer(self, name, message_filter, exit_on=None):
        config = h.write(os.path.join(self.dir, name + ".json"),
                         h.user_config(self.workload, "meme-queue", message_filter))
        out = os.path.join(self.dir, name + ".jsonl")
        command = ["python3", h.CONSUMER, VAR, out] + (["--exit-on", exit_on] if exit_on else [])
        return h.run_session(self.procs, self.daemon, config, command, name, self.env)

    def produce(self, messages):
        for start in range(0, len(messages), 10):
            entries = [{"Id": str(i), "MessageBody": m["body"],
                        "MessageAttributes": {k: {"DataType": "String", "StringValue": v}
                                              for k, v in m["attributes"].items()}}
                       for i, m in enumerate(messages[start:start + 10])]
            answer = self.sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            self.assertFalse(answer.get("Failed"), answer)

    def received(self, who):
        return h.read_jsonl(os.path.join(self.dir, who + ".jsonl"))

    def receivers(self, names):
        return h.receivers(self.dir, names)

    def wait_received(self, bodies, names, timeout=90):
        def done():
            got = self.receivers(names)
            return all(b in got for b in bodies)
        h.eventually(done, timeout, f"{len(bodies)} messages to be consumed")
        return self.receivers(names)

    def temporaries(self):
        urls = self.sqs.list_queues(QueueNamePrefix="mirrord-").get("QueueUrls", [])
        return [u for u in urls if self.queue in u]



class LocalModeSqs(SqsUsers):
    def test_two_developers_exit_signal_and_killed_client(self):
        self.exec_workload()
        alice, alice_id = self.run_developer("alice", {"author": "^alice$"}, exit_on="alice-bye")
        bob, bob_id = self.run_developer("bob", {"level": "^(beginner|intermediate)$"})
        carol, carol_id = self.run_developer("carol", {"author": "^carol$"})
        names = ["workload", "alice", "bob", "carol"]

        # Phase 1: three sessions in start order alice, bob, carol; the first match wins.
        authors, levels = ["alice", "bob", "carol", "dave"], ["beginner", "expert", "intermediate"]
        phase1 = [{"body": f"p1-{i}", "attributes": {"author": authors[i % 4], "level": levels[i % 3]}}
                  for i in range(120)]
        self.produce(phase1)
        got = self.wait_received([m["body"] for m in phase1], names)

        def expected(m):
            a = m["attributes"]
            if a["author"] == "alice":
                return "alice"
            if a["level"] in ("beginner", "intermediate"):
                return "bob"
            if a["author"] == "carol":
                return "carol"
            return "workload"
        h.assert_at_least_once(self, got, {m["body"]: expected(m) for m in phase1})
        for m in self.received("alice"):
            self.assertEqual(m["attributes"]["author"], "alice")

        # A killed client: carol's `qsplit run` and her command die; her session expires
        # after the unused TTL and her unread messages are routed again (to the workload).
        carol_child = [int(x) for x in h.read(f"/proc/{carol.pid}/task/{carol.pid}/children").split()]
        carol.send_signal(signal.SIGKILL)
        for pid in carol_child:
            os.kill(pid, signal.SIGKILL)
        carol.wait()
        phase2 = [{"body": f"p2-{i}", "attributes": {"author": "carol", "level": "expert"}}
                  for i in range(30)]
        self.produce(phase2)
        h.eventually(lambda: carol_id not in {s["id"] for s in self.daemon.sessions()}, 60,
                     "carol's session to expire")
        got = self.wait_received([m["body"] for m in phase2], names)
        h.assert_at_least_once(self, got, {m["body"]: "workload" for m in phase2})
        self.assertRegex(self.daemon.log(), f"session={carol_id} expired \\(Unused")

        # Ctrl-C: bob's `qsplit run` passes the signal on, ends the session, exits with the
        # command's status.
        bob.send_signal(signal.SIGINT)
        self.assertEqual(bob.wait(timeout=60), 0)
        self.assertNotIn(bob_id, {s["id"] for s in self.daemon.sessions()})

        # The command exits by itself: alice's consumer stops after "alice-bye".
        phase3 = [{"body": "alice-bye", "attributes": {"author": "alice", "level": "expert"}}]
        self.produce(phase3)
        self.assertEqual(alice.wait(timeout=60), 0)
        self.assertNotIn(alice_id, {s["id"] for s in self.daemon.sessions()})
        # What `qsplit run` told her: her queue and filter before the command started, and
        # at the end what reached her queue (her 31 at least) and what went back unread.
        said = h.read(os.path.join(self.dir, "alice.err"))
        self.assertRegex(said, r"qsplit: meme-queue: SQS \S+ -> mirrord-tmp-\S+, filter author=~/\^alice\$/ \(steal\)")
        counts = re.search(r"qsplit: meme-queue: (\d+) messages forwarded to your queue, (\d+) of them went back", said)
        self.assertIsNotNone(counts, said)
        forwarded, back = int(counts.group(1)), int(counts.group(2))
        self.assertGreaterEqual(forwarded - back, 31, said)

        # Restored: the workload reads the original again, every temporary queue is gone.
        phase4 = [{"body": f"p4-{i}", "attributes": {"author": "alice", "level": "beginner"}}
                  for i in range(20)]
        self.produce(phase4)
        got = self.wait_received([m["body"] for m in phase4], names)
        h.assert_at_least_once(self, got, {m["body"]: "workload" for m in phase4})
        h.eventually(lambda: not self.daemon.queues(), 60, "the split to be restored")
        h.eventually(lambda: not self.temporaries(), 30, "every temporary queue to be deleted")
        every = phase1 + phase2 + phase3 + phase4
        got = self.receivers(names)
        lost = [m["body"] for m in every if m["body"] not in got]
        self.assertEqual(lost, [])

    def test_kill9_of_qsplitd_while_messages_flow(self):
        self.exec_workload()
        alice, alice_id = self.run_developer("alice", {"author": "^alice$"})
        names = ["workload", "alice"]
        messages = [{"body": f"m-{i}", "attributes": {"author": ["alice", "bob"][i % 2]}}
                    for i in range(600)]
        producer = threading.Thread(target=lambda: [self.produce(messages[i:i + 20]) or time.sleep(0.05)
                                                    for i in range(0, len(messages), 20)])
        producer.start()
        h.eventually(lambda: len(self.received("alice")) + len(self.received("workload")) > 100,
                     60, "messages to flow")
        self.daemon.kill9()
        time.sleep(1)
        self.daemon.start()  # the same port and data directory
        producer.join()
        got = self.wait_received([m["body"] for m in messages], names, timeout=120)
        # Resumed: the same session, the same routing; at least once, so duplicates may occur.
        self.assertIn(alice_id, {s["id"] for s in self.daemon.sessions()})
        h.assert_at_least_once(self, got, {m["body"]: "alice" if m["attributes"]["author"] == "alice"
                                           else "workload" for m in messages})
        alice.send_signal(signal.SIGINT)
        self.assertEqual(alice.wait(timeout=60), 0)
        h.eventually(lambda: not self.daemon.queues(), 60, "the split to be restored")
        h.eventually(lambda: not self.temporaries(), 30, "no temporary queue left")


class LocalModeSns(SqsUsers):
    """The queue is subscribed to an SNS topic (moto serves both; this moto checks no
    signatures), and its registry entry says `sns: true`."""
    ENDPOINT = "QSPLIT_STS_ENDPOINT"
    REGISTRY_EXTRA = "      sns: true\n"

    def test_filters_match_the_sns_attributes_inside_the_body(self):
        import boto3
        sns = boto3.client("sns", endpoint_url=self.endpoint, region_name="us-east-1")
        topic = sns.create_topic(Name=h.unique("memes-topic"))["TopicArn"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url,
                                            AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
        self.exec_workload()
        alice, _ = self.run_developer("alice", {"author": "^alice$"})
        names = ["workload", "alice"]

        for i in range(12):
            sns.publish(TopicArn=topic, Message=f"n-{i}", MessageAttributes={
                "author": {"DataType": "String", "StringValue": ["alice", "bob"][i % 2]}})
        # Not a notification (as with raw message delivery): its own SQS attributes count.
        self.produce([{"body": "raw-alice", "attributes": {"author": "alice"}},
                      {"body": "raw-bob", "attributes": {"author": "bob"}}])

        def notifications():
            got = {}
            for who in names:
                for m in self.received(who):
                    body = json.loads(m["body"]) if m["body"].startswith("{") else {}
                    got.setdefault(body.get("Message", m["body"]), []).append((who, body))
            return got
        wanted = [f"n-{i}" for i in range(12)] + ["raw-alice", "raw-bob"]
        got = h.eventually(lambda: (lambda g: g if all(w in g for w in wanted) else None)(
            notifications()), 90, "every notification to be consumed")
        h.assert_at_least_once(self, {n: [who for who, _ in copies] for n, copies in got.items()},
                               dict({f"n-{i}": "alice" if i % 2 == 0 else "workload" for i in range(12)},
                                    **{"raw-alice": "alice", "raw-bob": "workload"}))
        for i in range(12):
            for _, body in got[f"n-{i}"]:
                # The body arrives as SNS wrote it: the envelope with its attributes.
                self.assertEqual(body["Type"], "Notification")
                self.assertEqual(body["TopicArn"], topic)
                self.assertEqual(body["MessageAttributes"]["author"]["Value"],
                                 "alice" if i % 2 == 0 else "bob")

        alice.send_signal(signal.SIGINT)
        self.assertEqual(alice.wait(timeout=60), 0)
        h.eventually(lambda: not self.daemon.queues(), 60, "the split to be restored")
        h.eventually(lambda: not self.temporaries(), 30, "no temporary queue left")


class LocalModeS3(SqsUsers):
    """S3 sends the events of a bucket to the queue (moto serves both), and the registry entry
    says `s3Event: true`."""
    ENDPOINT = "QSPLIT_STS_ENDPOINT"
    REGISTRY_EXTRA = "      s3Event: true\n"

    def test_filters_match_the_metadata_of_the_objects_events_name(self):
        import boto3
        s3 = boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1")
        bucket = h.unique("memes-bucket")
        s3.create_bucket(Bucket=bucket)
        arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url,
                                            AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]})
        self.exec_workload()
        alice, _ = self.run_developer("alice", {"author": "^alice$"})
        names = ["workload", "alice"]

        keys = {f"2026/meme {i}+{'alice' if i % 2 == 0 else 'bob'}.txt": i % 2 == 0 for i in range(6)}
        for key, by_alice in keys.items():
            s3.put_object(Bucket=bucket, Key=key, Body=b"lol",
                          Metadata={"author": "alice" if by_alice else "bob"})
        # Not an event: its own attributes count.
        self.produce([{"body": "raw-alice", "attributes": {"author": "alice"}}])

        def events():
            got = {}
            for who in names:
                for m in self.received(who):
                    body = json.loads(m["body"]) if m["body"].startswith("{") else {}
                    for record in body.get("Records", []):
                        key = unquote_plus(record["s3"]["object"]["key"])  # encoded as S3 does
                        got.setdefault(key, []).append(who)
                    if m["body"] == "raw-alice":
                        got.setdefault("raw-alice", []).append(who)
            return got
        wanted = keys
        got = h.eventually(lambda: (lambda g: g if all(k in g for k in wanted) and "raw-alice" in g
                                    else None)(events()), 90, "every event to be consumed")
        h.assert_at_least_once(self, got, dict({key: "alice" if by_alice else "workload"
                                                for key, by_alice in wanted.items()},
                                               **{"raw-alice": "alice"}))

        alice.send_signal(signal.SIGINT)
        self.assertEqual(alice.wait(timeout=60), 0)
        h.eventually(lambda: not self.daemon.queues(), 60, "the split to be restored")
        h.eventually(lambda: not self.temporaries(), 30, "no temporary queue left")


if __name__ == "__main__":
    unittest.main(verbosity=2)
