"""Creates the IAM users the SQS tests sign with on a moto server that checks signatures.

moto answers the first INITIAL_NO_AUTH_ACTION_COUNT calls without checking them; this script
spends them on two users: "qsplit", allowed every SQS action and reading S3 objects (the
metadata of `s3Event` queues), and "denied", allowed nothing.
Prints their keys as environment lines.
"""
import json
import sys

import boto3

endpoint = sys.argv[1]
iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
iam.create_user(UserName="qsplit")
iam.put_user_policy(UserName="qsplit", PolicyName="sqs", PolicyDocument=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["sqs:*", "s3:GetObject"], "Resource": "*"}]}))
allowed = iam.create_access_key(UserName="qsplit")["AccessKey"]
iam.create_user(UserName="denied")
denied = iam.create_access_key(UserName="denied")["AccessKey"]
print(f"QSPLIT_MOTO_ACCESS_KEY_ID={allowed['AccessKeyId']}")
print(f"QSPLIT_MOTO_SECRET_ACCESS_KEY={allowed['SecretAccessKey']}")
print(f"QSPLIT_MOTO_DENIED_ACCESS_KEY_ID={denied['AccessKeyId']}")
print(f"QSPLIT_MOTO_DENIED_SECRET_ACCESS_KEY={denied['SecretAccessKey']}")
