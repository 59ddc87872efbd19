"""A consumer as a developer or a deployed service would run it: boto3 reading the queue whose
name (or URL) is in the environment variable QUEUE_VAR, recording every message it receives.
QUEUE_VAR may name several variables, separated by commas: their queues are read in turn.

  queue_consumer.py QUEUE_VAR OUTPUT_FILE [--exit-on BODY]

Each received message appends one JSON line {"queue", "body", "attributes"} to OUTPUT_FILE
(flushed, so a kill loses nothing already written), then is deleted. SIGTERM and SIGINT stop it
after the message in hand; --exit-on BODY exits once a message with that body is recorded.
The endpoint is QSPLIT_SQS_TEST_ENDPOINT.
"""
import json
import os
import signal
import sys

import boto3

stop = False


def on_signal(signum, frame):
    global stop
    stop = True


def main():
    var, output = sys.argv[1], sys.argv[2]
    exit_on = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--exit-on" else None
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    sqs = boto3.client("sqs", endpoint_url=os.environ["QSPLIT_SQS_TEST_ENDPOINT"],
                       region_name="us-east-1")
    queues = []
    for name in var.split(","):
        value = os.environ[name]
        queues.append((value, value if value.startswith("http") else
                       sqs.get_queue_url(QueueName=value)["QueueUrl"]))
    done = False
    with open(output, "a") as out:
        while not stop:
            for value, queue in queues:
                answer = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10,
                                             WaitTimeSeconds=1, MessageAttributeNames=["All"])
                for m in answer.get("Messages", []):
                    attributes = {k: v.get("StringValue", "") for k, v in
                                  m.get("MessageAttributes", {}).items()}
                    out.write(json.dumps({"queue": value, "body": m["Body"],
                                          "attributes": attributes}) + "\n")
                    out.flush()
                    sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
                    done = done or m["Body"] == exit_on
                if done:
                    return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
