"""The MSK IAM token as AWS's own signer builds it (aws-msk-iam-sasl-signer: botocore's
SigV4QueryAuth on https://kafka.REGION.amazonaws.com/?Action=kafka-cluster%3AConnect, then a
User-Agent, base64url without padding), at a fixed time, for qsplit's test to compare with.

usage: msk_token_reference.py REGION ACCESS_KEY SECRET_KEY TOKEN_OR_- YYYYMMDDTHHMMSSZ USER_AGENT"""
import base64
import datetime
import sys
from unittest import mock

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

region, key, secret, token, when, agent = sys.argv[1:7]
credentials = Credentials(key, secret, None if token == "-" else token)
at = datetime.datetime.strptime(when, "%Y%m%dT%H%M%SZ")
request = AWSRequest(method="GET", url=f"https://kafka.{region}.amazonaws.com/?Action=kafka-cluster%3AConnect")
with mock.patch.object(botocore.auth, "get_current_datetime", return_value=at):
    botocore.auth.SigV4QueryAuth(credentials, "kafka-cluster", region, expires=900).add_auth(request)
url = request.url + "&User-Agent=" + agent
print(base64.urlsafe_b64encode(url.encode()).decode().rstrip("="))
