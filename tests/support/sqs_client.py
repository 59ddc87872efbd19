"""The independent SQS client of the tests: boto3, the AWS SDK for Python.

  sqs_client.py create QUEUE [ATTRIBUTES_JSON [TAGS_JSON]]
  sqs_client.py send QUEUE       < JSON lines {"body", "attributes": [{"name","value","type"}], "group"}
  sqs_client.py drain QUEUE      > JSON lines, every message received (and deleted) until empty
  sqs_client.py list             > queue names, one per line
  sqs_client.py describe QUEUE   > JSON {"attributes": {...}, "tags": {...}}

The endpoint is QSPLIT_SQS_TEST_ENDPOINT; credentials come from the usual AWS variables.
"""
import base64
import json
import sys
import uuid

import boto3

sqs = boto3.client("sqs", endpoint_url=__import__("os").environ["QSPLIT_SQS_TEST_ENDPOINT"],
                   region_name="us-east-1")


def url(name):
    return sqs.get_queue_url(QueueName=name)["QueueUrl"]


def attribute(a):
    kind = a.get("type") or "String"
    if kind.startswith("Binary"):
        return {"DataType": kind, "BinaryValue": a["value"].encode("latin-1")}
    return {"DataType": kind, "StringValue": a["value"]}


def send(name):
    queue = url(name)
    fifo = name.endswith(".fifo")
    lines = [json.loads(line) for line in sys.stdin if line.strip()]
    for start in range(0, len(lines), 10):
        entries = []
        for i, m in enumerate(lines[start:start + 10]):
            entry = {"Id": str(i), "MessageBody": m["body"],
                     "MessageAttributes": {a["name"]: attribute(a) for a in m.get("attributes", [])}}
            if fifo:
                entry["MessageGroupId"] = m.get("group") or "g"
                entry["MessageDeduplicationId"] = uuid.uuid4().hex
            entries.append(entry)
        answer = sqs.send_message_batch(QueueUrl=queue, Entries=entries)
        if answer.get("Failed"):
            sys.exit(f"send failed: {answer['Failed']}")


def drain(name):
    queue = url(name)
    empty = 0
    while empty < 1:
        answer = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                     MessageAttributeNames=["All"], AttributeNames=["All"])
        messages = answer.get("Messages", [])
        if not messages:
            empty += 1
            continue
        empty = 0
        for m in messages:
            attributes = []
            for key, value in m.get("MessageAttributes", {}).items():
                if "BinaryValue" in value:
                    text = value["BinaryValue"].decode("latin-1")
                else:
                    text = value.get("StringValue", "")
                attributes.append({"name": key, "value": text, "type": value["DataType"]})
            print(json.dumps({"body": m["Body"], "attributes": attributes, "id": m["MessageId"],
                              "group": m.get("Attributes", {}).get("MessageGroupId", "")}))
        sqs.delete_message_batch(QueueUrl=queue, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])


def main():
    verb = sys.argv[1]
    if verb == "create":
        attributes = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
        tags = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
        sqs.create_queue(QueueName=sys.argv[2], Attributes=attributes, tags=tags)
    elif verb == "send":
        send(sys.argv[2])
    elif verb == "drain":
        drain(sys.argv[2])
    elif verb == "list":
        token = None
        while True:
            answer = sqs.list_queues(**({"NextToken": token} if token else {}), MaxResults=1000)
            for queue_url in answer.get("QueueUrls", []):
                print(queue_url.rsplit("/", 1)[1])
            token = answer.get("NextToken")
            if not token:
                break
    elif verb == "describe":
        queue = url(sys.argv[2])
        print(json.dumps({
            "attributes": sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"]).get("Attributes", {}),
            "tags": sqs.list_queue_tags(QueueUrl=queue).get("Tags", {})}))
    else:
        sys.exit(f"unknown verb {verb}")


if __name__ == "__main__":
    main()
