"""End to end, local mode: developers split by message content (`jq_filter`) on ElasticMQ
(standard and FIFO queues), Apache Kafka and RabbitMQ, with independent clients producing
(boto3, kcat, pika). Content and attribute filters overlap and start order decides, checked per
message; a looping filter is switched off while the others and the workload keep receiving
what they should; a program that does not compile is refused by `qsplit run` and the API; a
protobuf-encoded topic is split by decoded fields (`payload_protobuf`)."""
import json
import os
import signal
import subprocess
import sys
import unittest

import harness as h
from harness import topic_tool
from local_mode_kafka_test import KafkaCase
from local_mode_sqs_test import SqsUsers, VAR as SQS_VAR

RMQ_VAR = "INCOMING_ORDERS_QUEUE"
RMQ_CLIENT = os.path.join(h.SOURCE, "tests/support/rabbitmq_client.py")


def config(workload, queue_id, queue_type, entry):
    return json.dumps({"target": f"deployment/{workload}",
                       "feature": {"split_queues": {queue_id: dict(entry, queue_type=queue_type)}}})


class Developers:
    """`qsplit run` for one developer with a split_queues entry; mixed into each broker's case."""
    QUEUE_ID, QUEUE_TYPE = "", ""

    def run_developer(self, name, entry, command):
        path = h.write(os.path.join(self.dir, name + ".json"),
                       config(self.workload, self.QUEUE_ID, self.QUEUE_TYPE, entry))
        return h.run_session(self.procs, self.daemon, path, command, name, self.env)

    def end(self, *processes):
        for p in processes:
            p.send_signal(signal.SIGINT)
            self.assertEqual(p.wait(timeout=120), 0)
        h.eventually(lambda: not self.daemon.queues(), 120, "the split to be restored")

    def refused(self, entry):
        """What `qsplit run` and the API say about a config; neither starts anything."""
        path = h.write(os.path.join(self.dir, "bad.json"),
                       config(self.workload, self.QUEUE_ID, self.QUEUE_TYPE, entry))
        run = subprocess.run([h.QSPLIT, "run", "-f", path, "--", "true"], capture_output=True,
                             text=True, timeout=60, env=dict(os.environ, **self.env))
        self.assertEqual(run.returncode, 2, run.stderr)
        status, body = self.daemon.request("POST", "/api/v1/sessions", {"config": json.loads(h.read(path))})
        self.assertEqual(status, 400, body)
        return run.stderr, body["error"]["message"] if isinstance(body.get("error"), dict) else str(body)


class ContentFiltersSqs(Developers, SqsUsers):
    QUEUE_ID, QUEUE_TYPE = "meme-queue", "SQS"
    FIFO = False

    def consumer(self, name):
        return ["python3", h.CONSUMER, SQS_VAR, os.path.join(self.dir, name + ".jsonl")]

    def send(self, messages):
        for start in range(0, len(messages), 10):
            entries = []
            for i, m in enumerate(messages[start:start + 10]):
                e = {"Id": str(i), "MessageBody": m["body"],
                     "MessageAttributes": {k: {"DataType": "String", "StringValue": v}
                                           for k, v in m["attributes"].items()}}
                if self.FIFO:
                    e["MessageGroupId"] = m["attributes"]["tier"]
                    e["MessageDeduplicationId"] = str(start + i) + m["body"][:40].replace(" ", "")
                entries.append(e)
            answer = self.sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            self.assertFalse(answer.get("Failed"), answer)

    def test_developers_split_by_body_and_attributes_in_start_order(self):
        self.exec_workload()
        alice, _ = self.run_developer("alice", {"jq_filter": '.Body | fromjson | .user == "alice"'},
                                      self.consumer("alice"))
        bob, _ = self.run_developer("bob", {"message_filter": {"tier": "^gold$"}}, self.consumer("bob"))
        carol, _ = self.run_developer("carol", {
            "message_filter": {"tier": "^silver$"},
            "jq_filter": ".Body | fromjson | .amount > 100"}, self.consumer("carol"))
        names = ["workload", "alice", "bob", "carol"]
        users, tiers = ["alice", "bob", "dave"], ["gold", "silver", "bronze"]
        messages = [{"body": json.dumps({"user": users[i % 3], "amount": (i * 37) % 200, "n": i}),
                     "attributes": {"tier": tiers[(i // 3) % 3]}} for i in range(90)]
        messages += [{"body": f"not json {i}", "attributes": {"tier": "silver"}} for i in range(5)]

        def expected(m):
            try:
                body = json.loads(m["body"])
            except ValueError:
                body = None
            if body and body["user"] == "alice":
                return "alice"
            if m["attributes"]["tier"] == "gold":
                return "bob"
            if body and m["attributes"]["tier"] == "silver" and body["amount"] > 100:
                return "carol"
            return "workload"
        self.send(messages)
        self.wait_received([m["body"] for m in messages], names)
        h.assert_at_least_once(self, self.receivers(names), {m["body"]: expected(m) for m in messages})
        for s in self.daemon.sessions():
            self.assertNotIn("filter_error", s["queues"][0])
        self.end(alice, bob, carol)
        h.eventually(lambda: not self.temporaries(), 30, "every temporary queue to be deleted")


class ContentFiltersSqsFifo(ContentFiltersSqs):
    FIFO = True

    def setUp(self):
        self.endpoint, self.sqs = h.sqs_server(self, self.ENDPOINT)
        self.workload = h.unique("memes")
        self.queue = h.unique("meme-queue") + ".fifo"
        self.queue_url = self.sqs.create_queue(QueueName=self.queue, Attributes={"FifoQueue": "true"})["QueueUrl"]
        resources = os.path.join(self.dir, "resources")
        os.makedirs(resources)
        h.write(os.path.join(resources, "registry.yaml"),
                h.registry_yaml(self.workload, "meme-queue", SQS_VAR))
        self.daemon = h.Daemon(self.procs, self.dir, f"""sqs:
  endpoint: {self.endpoint}
splitting:
  linger_timeout: 20
""", resources).start()
        self.env = {"QSPLIT_SERVER": self.daemon.url}


class ContentFiltersKafka(Developers, KafkaCase):
    QUEUE_ID, QUEUE_TYPE = "views", "Kafka"
    DAEMON_CONFIG = """kafka: {enabled: true}
splitting: {linger_timeout: 30}
filters: {jq_time_limit: 100ms}
"""

    def setUp(self):
        super().setUp()
        self.start_workload()

    def consumer(self, name):
        return self.kcat_consumer(os.path.join(self.dir, name + ".out"))

    def test_a_looping_filter_is_switched_off_and_everyone_else_gets_theirs_exactly_once(self):
        loop, loop_id = self.run_developer("loop", {"jq_filter": "def f: f; f"}, self.consumer("loop"))
        alice, _ = self.run_developer("alice", {"jq_filter": ".payload | fromjson | .data.merchantId == 2137"},
                                      self.consumer("alice"))
        bob, _ = self.run_developer("bob", {"message_filter": {"author": "^bob$"}}, self.consumer("bob"))
        merchants = [2137, 7, 2137, 99]
        by_author = {"bob": [], "carol": []}
        for i in range(120):
            body = json.dumps({"data": {"merchantId": merchants[i % 4]}, "n": i})
            by_author["bob" if i % 3 == 0 else "carol"].append(body)
        for author, bodies in by_author.items():
            h.kcat_produce(self.bootstrap, self.topic, author, bodies)

        def expected(author, body):
            if json.loads(body)["data"]["merchantId"] == 2137:
                return "alice"
            return "bob" if author == "bob" else "workload"
        wanted = {"loop": [], "alice": [], "bob": [], "workload": []}
        for author, bodies in by_author.items():
            for b in bodies:
                wanted[expected(author, b)].append(b)
        h.eventually(lambda: all(set(wanted[w]) <= set(self.received(w)) for w in wanted), 120,
                     "every record to reach its reader")
        for who, bodies in wanted.items():  # exactly once, and the looping filter got nothing
            self.assertEqual(sorted(self.received(who)), sorted(bodies), who)
        loop_session = [s for s in self.daemon.sessions() if s["id"] == loop_id][0]
        self.assertIn("jq_filter switched off: it ran longer than the 100 ms limit",
                      loop_session["queues"][0].get("filter_error", ""))
        self.assertIn(f"session {loop_id}: the jq_filter of queue id 'views'", self.daemon.log())
        self.end(loop, alice, bob)
        left = [t for t in topic_tool(self.bootstrap, "list") if t.startswith("mirrord-") and self.topic in t]
        self.assertEqual(left, [])

    def test_a_program_that_does_not_compile_is_refused_before_anything_starts(self):
        stderr, message = self.refused({"jq_filter": ".payload | fromjsn"})
        self.assertIn("bad.json: feature.split_queues.views.jq_filter: fromjsn/0 is not defined", stderr)
        self.assertIn("mirrord.json: feature.split_queues.views.jq_filter: fromjsn/0 is not defined", message)
        self.assertEqual(self.daemon.sessions(), [])
        self.assertEqual(self.daemon.queues(), [])


PROTO_DIR = os.path.join(h.SOURCE, "tests/testdata/protobuf")


def payments_module(out):
    """The Payment message class, generated by protoc into `out` and imported from there."""
    subprocess.run(["protoc", "-I", PROTO_DIR, "-I", os.path.join(PROTO_DIR, "include"), f"--python_out={out}",
                    "payments.proto", "common/money.proto"], check=True, timeout=60)
    sys.path.insert(0, out)
    import payments_pb2
    return payments_pb2


class ContentFiltersKafkaProtobuf(Developers, KafkaCase):
    """A protobuf-encoded topic split by decoded fields; records produced by kcat from files
    that Python's protobuf encoded, read back by kcat length-prefixed."""
    QUEUE_ID, QUEUE_TYPE = "views", "Kafka"

    def setUp(self):
        super().setUp()
        self.pb = payments_module(self.dir)
        self.start_workload()

    def kcat_consumer(self, out):
        return h.kcat_consumer(self.ID_VAR, out, "%R%s")

    def consumer(self, name):
        return self.kcat_consumer(os.path.join(self.dir, name + ".out"))

    def received(self, who):
        return h.kcat_sized_received(os.path.join(self.dir, who + ".out"))

    def protobuf(self, **fields):
        entry = {"schema_file": os.path.join(PROTO_DIR, "payments.proto"),
                 "include_directories": [os.path.join(PROTO_DIR, "include")],
                 "message_type": "example.payments.Payment"}
        return dict(entry, **fields)

    def test_developers_split_a_protobuf_topic_by_decoded_fields_in_start_order(self):
        alice, _ = self.run_developer("alice", {"jq_filter": ".payload_decoded.merchant_id == 2137",
                                                "payload_protobuf": self.protobuf()}, self.consumer("alice"))
        bob, _ = self.run_developer("bob", {"jq_filter": '.payload_decoded.status == "STATUS_REFUNDED" and '
                                                         '.payload_decoded.amount.units > 100',
                                            "payload_protobuf": self.protobuf()}, self.consumer("bob"))
        payments = []
        for i in range(30):
            p = self.pb.Payment(merchant_id=[2137, 7, 99][i % 3], customer=f"c-{i}",
                                status=[self.pb.STATUS_PAID, self.pb.STATUS_REFUNDED][i % 2])
            p.amount.currency, p.amount.units = "EUR", 50 * i
            payments.append(p)
        undecodable = [b"\xff\xff\xff\xff", b"not protobuf at all: \x0a\xff"]
        files = []
        for i, payload in enumerate([p.SerializeToString() for p in payments] + undecodable):
            files.append(h.write_bytes(os.path.join(self.dir, f"record-{i}.bin"), payload))
        subprocess.run(["kcat", "-P", "-b", self.bootstrap, "-t", self.topic] + files, check=True, timeout=60)

        wanted = {"alice": [], "bob": [], "workload": list(undecodable)}
        for p in payments:
            who = "alice" if p.merchant_id == 2137 else (
                "bob" if p.status == self.pb.STATUS_REFUNDED and p.amount.units > 100 else "workload")
            wanted[who].append(p.SerializeToString())
        self.assertTrue(wanted["alice"] and wanted["bob"])
        h.eventually(lambda: all(len(self.received(w)) >= len(wanted[w]) for w in wanted), 120,
                     "every record to reach its reader")
        for who, payloads in wanted.items():  # exactly once, byte for byte
            self.assertEqual(sorted(self.received(who)), sorted(payloads), who)
        self.end(alice, bob)

    def test_a_schema_that_does_not_compile_or_lacks_the_type_is_refused_naming_the_field(self):
        jq = ".payload_decoded.merchant_id == 2137"
        stderr, message = self.refused({"jq_filter": jq, "payload_protobuf": self.protobuf(
            schema_file=os.path.join(PROTO_DIR, "broken.proto"))})
        self.assertIn("bad.json: feature.split_queues.views.payload_protobuf: failed to compile", stderr)
        self.assertIn("broken.proto:5:1: Expected \";\"", stderr)
        # qsplitd reads no developer's files: it wants the descriptor qsplit run compiles.
        self.assertIn("mirrord.json: feature.split_queues.views.payload_protobuf.schema_file: is not compiled",
                      message)
        stderr, _ = self.refused({"jq_filter": jq, "payload_protobuf": self.protobuf(message_type="Payment")})
        self.assertIn("bad.json: feature.split_queues.views.payload_protobuf.message_type: message `Payment` "
                      "not found in the compiled schema", stderr)
        stderr, message = self.refused({"payload_protobuf": self.protobuf()})
        self.assertIn("payload_protobuf decodes the payload for jq_filter, which is not set", stderr)
        self.assertIn("payload_protobuf decodes the payload for jq_filter, which is not set", message)
        self.assertEqual(self.daemon.sessions(), [])


class ContentFiltersRabbitMq(Developers, unittest.TestCase):
    QUEUE_ID, QUEUE_TYPE = "orders", "RMQ"

    def setUp(self):
        from local_mode_rabbitmq_test import resources_yaml
        self.url = h.require("QSPLIT_RABBITMQ_URL")
        h.require("QSPLIT_RABBITMQ_MANAGEMENT")
        self.dir = h.tempdir("rmq-content")
        self.procs = h.Processes(self.dir)
        self.addCleanup(lambda: self.procs.stop_all())
        self.workload = h.unique("orders")
        self.queue = h.unique("orders-queue")
        self.client("declare", self.queue)
        resources = os.path.join(self.dir, "resources")
        os.makedirs(resources)
        h.write(os.path.join(resources, "orders.yaml"), resources_yaml(self.workload, self.url, "guest"))
        self.daemon = h.Daemon(self.procs, self.dir, "rabbitmq: {enabled: true}\nsplitting: {linger_timeout: 20}\n",
                               resources).start()
        self.env = {"QSPLIT_SERVER": self.daemon.url}
        h.exec_workload(self.procs, self.daemon, dict(self.env, **{RMQ_VAR: self.queue}), self.workload,
                        self.consumer("workload"))

    def client(self, *args, stdin=None):
        done = subprocess.run(["python3", RMQ_CLIENT] + list(args), input=stdin, text=True,
                              capture_output=True, timeout=120)
        self.assertEqual(done.returncode, 0, done.stderr)
        return done.stdout

    def consumer(self, name):
        return ["python3", RMQ_CLIENT, "consume", RMQ_VAR, os.path.join(self.dir, name + ".jsonl")]

    def test_developers_split_by_payload_headers_and_properties(self):
        alice, _ = self.run_developer("alice", {"jq_filter": '.payload | fromjson | .user == "alice"'},
                                      self.consumer("alice"))
        bob, _ = self.run_developer("bob", {
            "jq_filter": '.headers.tier == "gold" and .properties.type == "refund" and .routing_key != ""'},
                                    self.consumer("bob"))
        carol, _ = self.run_developer("carol", {"message_filter": {"tier": "^silver$"}}, self.consumer("carol"))
        names = ["workload", "alice", "bob", "carol"]
        users, tiers, kinds = ["alice", "bob", "dave"], ["gold", "silver", "bronze"], ["order", "refund"]
        messages = [{"body": json.dumps({"user": users[i % 3], "n": i}),
                     "headers": {"tier": tiers[(i // 3) % 3], "seq": i},
                     "properties": {"type": kinds[(i // 9) % 2]}} for i in range(90)]

        def expected(m):
            if json.loads(m["body"])["user"] == "alice":
                return "alice"
            if m["headers"]["tier"] == "gold" and m["properties"]["type"] == "refund":
                return "bob"
            return "carol" if m["headers"]["tier"] == "silver" else "workload"
        self.client("send", self.queue, stdin="".join(json.dumps(m) + "\n" for m in messages))
        h.eventually(lambda: all(m["body"] in h.receivers(self.dir, names) for m in messages), 90,
                     "every message to be consumed")
        h.assert_at_least_once(self, h.receivers(self.dir, names), {m["body"]: expected(m) for m in messages})
        self.end(alice, bob, carol)


if __name__ == "__main__":
    unittest.main()
