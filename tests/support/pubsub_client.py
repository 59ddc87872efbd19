"""Google Cloud Pub/Sub as applications use it, for the tests: Google's own Python library
(google-cloud-pubsub) against the emulator at PUBSUB_EMULATOR_HOST.

  pubsub_client.py PROJECT setup TOPIC SUBSCRIPTION [ACK_DEADLINE [ordering]]   (the topic may exist)
  pubsub_client.py PROJECT publish TOPIC       < one JSON message a line; prints the ids
  pubsub_client.py PROJECT drain SUBSCRIPTION IDLE_MS   pulls and acks until IDLE_MS pass
                                                         with nothing; prints JSON lines
  pubsub_client.py PROJECT get SUBSCRIPTION     prints the subscription's settings as JSON
  pubsub_client.py PROJECT list                 prints "topic ID" and "subscription ID" lines
  pubsub_client.py PROJECT consume VARIABLE OUT  an application: a streaming-pull subscriber of the
                                                 subscription $VARIABLE names, appending each message
                                                 to OUT as a JSON line, then acknowledging it, until
                                                 SIGTERM or SIGINT

A message is {"data": text, "attributes": {...}, "ordering_key": text}.
"""
import json
import os
import signal
import sys
import threading
import time
import warnings

warnings.filterwarnings("ignore")  # the library's notices about Python versions
from google.cloud import pubsub_v1  # noqa: E402
from google.api_core.exceptions import AlreadyExists  # noqa: E402
from google.protobuf import duration_pb2  # noqa: E402


def setup(project, topic, subscription, ack_deadline="10", ordering=""):
    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    topic_path = publisher.topic_path(project, topic)
    try:
        publisher.create_topic(name=topic_path)
    except AlreadyExists:  # a second subscription of the topic
        pass
    subscriber.create_subscription(request={
        "name": subscriber.subscription_path(project, subscription), "topic": topic_path,
        "ack_deadline_seconds": int(ack_deadline), "enable_message_ordering": ordering == "ordering",
        "message_retention_duration": duration_pb2.Duration(seconds=3600), "labels": {"team": "orders"}})


def publish(project, topic):
    publisher = pubsub_v1.PublisherClient(
        publisher_options=pubsub_v1.types.PublisherOptions(enable_message_ordering=True))
    path = publisher.topic_path(project, topic)
    futures = []
    for line in sys.stdin:
        m = json.loads(line)
        futures.append(publisher.publish(path, m["data"].encode(), ordering_key=m.get("ordering_key", ""),
                                         **m.get("attributes", {})))
    for f in futures:
        print(f.result())


def drain(project, subscription, idle_ms):
    subscriber = pubsub_v1.SubscriberClient()
    path = subscriber.subscription_path(project, subscription)
    last = time.monotonic()
    while time.monotonic() - last < int(idle_ms) / 1000:
        response = subscriber.pull(request={"subscription": path, "max_messages": 1000}, timeout=5)
        if not response.received_messages:
            continue
        last = time.monotonic()
        for r in response.received_messages:
            m = r.message
            print(json.dumps({"data": m.data.decode(), "attributes": dict(m.attributes),
                              "ordering_key": m.ordering_key, "message_id": m.message_id}), flush=True)
        subscriber.acknowledge(request={"subscription": path,
                                        "ack_ids": [r.ack_id for r in response.received_messages]})


def get(project, subscription):
    subscriber = pubsub_v1.SubscriberClient()
    s = subscriber.get_subscription(subscription=subscriber.subscription_path(project, subscription))
    print(json.dumps({"topic": s.topic, "ack_deadline_seconds": s.ack_deadline_seconds,
                      "enable_message_ordering": s.enable_message_ordering,
                      "message_retention_seconds": s.message_retention_duration.total_seconds(),
                      "labels": dict(s.labels),
                      # 0: the subscription never expires
                      "expiration_seconds": s.expiration_policy.ttl.total_seconds() if s.expiration_policy.ttl else 0}))


def consume(project, variable, out):
    subscriber = pubsub_v1.SubscriberClient()
    path = subscriber.subscription_path(project, os.environ[variable])
    lock = threading.Lock()
    with open(out, "a") as f:
        def received(m):
            with lock:
                f.write(json.dumps({"data": m.data.decode(), "attributes": dict(m.attributes),
                                    "ordering_key": m.ordering_key, "message_id": m.message_id}) + "\n")
                f.flush()
            m.ack()
        # A lease of 10 s, not the library's 60: what the stream delivers as the client stops is
        # held that long, and qsplit waits an ack deadline (10 s) and 2 s with nothing to see
        # before it deletes an ended session's subscription (docs/pubsub.md, What is left).
        future = subscriber.subscribe(path, received, flow_control=pubsub_v1.types.FlowControl(
            max_messages=200, max_duration_per_lease_extension=10))
        stop = threading.Event()
        for s in (signal.SIGTERM, signal.SIGINT):
            signal.signal(s, lambda *_: stop.set())
        stop.wait()
        future.cancel()  # the client stops pulling; what it held unacknowledged is delivered again
        try:
            future.result(timeout=10)
        except Exception:  # cancelled: the normal end
            pass


def list_all(project):
    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    for t in publisher.list_topics(project=f"projects/{project}"):
        print("topic", t.name.rsplit("/", 1)[1])
    for s in subscriber.list_subscriptions(project=f"projects/{project}"):
        print("subscription", s.name.rsplit("/", 1)[1])


if __name__ == "__main__":
    project, verb, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    {"setup": setup, "publish": publish, "drain": drain, "get": get, "list": list_all,
     "consume": consume}[verb](project, *args)
