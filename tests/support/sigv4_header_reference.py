"""The SigV4 Authorization header as botocore (the AWS SDK for Python) computes it for a
request, at a fixed time, for qsplit's test to compare with what libcurl signed.

stdin: JSON {"method", "url", "headers": {name: value}, "body", "key", "secret", "token",
             "region", "service", "amz_date": "YYYYMMDDTHHMMSSZ"}
stdout: the Authorization header's value"""
import datetime
import json
import sys
from unittest import mock

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

r = json.load(sys.stdin)
request = AWSRequest(method=r["method"], url=r["url"], data=r["body"].encode(), headers=r["headers"])
at = datetime.datetime.strptime(r["amz_date"], "%Y%m%dT%H%M%SZ")
credentials = Credentials(r["key"], r["secret"], r["token"] or None)
with mock.patch.object(botocore.auth, "get_current_datetime", return_value=at):
    botocore.auth.SigV4Auth(credentials, r["service"], r["region"]).add_auth(request)
print(request.headers["Authorization"])
