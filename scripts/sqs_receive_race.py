"""Does an SQS server hand one message to two concurrent ReceiveMessage calls?

  sqs_receive_race.py ENDPOINT [--receivers N] [--messages M]

Creates a queue, starts N threads (default 2) that long-poll it with boto3 and delete what
they get, as qsplit's pollers do, sends M messages (default 300) one at a time, and prints
how many of them were received more than once. Nothing of qsplit is involved: a copy counted
here is the server's. Real SQS may deliver a standard queue's message twice too (at least
once), but not to two calls at the same moment; moto does, when its threads interleave
(its receive checks that a message is visible, then marks it received, without a lock).
"""
import argparse
import collections
import threading
import time
import uuid

import boto3
import botocore.exceptions


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("endpoint")
    parser.add_argument("--receivers", type=int, default=2)
    parser.add_argument("--messages", type=int, default=300)
    args = parser.parse_args()
    options = dict(endpoint_url=args.endpoint, region_name="us-east-1",
                   aws_access_key_id="x", aws_secret_access_key="x")
    sqs = boto3.client("sqs", **options)
    url = sqs.create_queue(QueueName=f"race-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    seen = collections.Counter()
    stop = threading.Event()

    def receive():
        client = boto3.client("sqs", **options)
        while not stop.is_set():
            answer = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                            WaitTimeSeconds=1, VisibilityTimeout=30)
            for m in answer.get("Messages", []):
                seen[m["MessageId"]] += 1
                try:
                    client.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
                except botocore.exceptions.ClientError:
                    pass  # the other copy's delete came first

    threads = [threading.Thread(target=receive) for _ in range(args.receivers)]
    for t in threads:
        t.start()
    try:
        for i in range(args.messages):
            sqs.send_message(QueueUrl=url, MessageBody=f"m-{i}")
            time.sleep(0.005)
        until = time.time() + 30
        while len(seen) < args.messages and time.time() < until:
            time.sleep(0.2)
    finally:
        stop.set()
        for t in threads:
            t.join()
        sqs.delete_queue(QueueUrl=url)
    twice = sum(1 for n in seen.values() if n > 1)
    print(f"{args.endpoint}: {args.messages} sent, {len(seen)} received, {twice} received by "
          f"more than one call ({args.receivers} receivers)")


if __name__ == "__main__":
    main()
