"""qsplitd's HTTP API as clients meet it: bearer tokens, ownership, malformed, oversized and
invalid requests (each a clear 4xx with no side effect), session expiry, metrics, and the
CLI's messages. qsplitd runs on the embedded broker here; the real brokers are in
local_mode_sqs_test.py."""
import json
import os
import subprocess
import time
import unittest

import harness as h

ALICE, BOB, ADMIN = "alice-token-0123456789", "bob-token-0123456789ab", "admin-token-0123456789"


class Api(unittest.TestCase):
    def setUp(self):
        self.dir = h.tempdir(self.id().split(".")[-1])
        self.procs = h.Processes(self.dir)
        self.addCleanup(self.procs.stop_all)
        resources = os.path.join(self.dir, "resources")
        os.makedirs(resources)
        h.write(os.path.join(resources, "registry.yaml"),
                h.registry_yaml("meme-app", "meme-queue", "QUEUE_NAME"))
        tokens = h.write(os.path.join(self.dir, "tokens.yaml"), f"""tokens:
  - {{token: {ALICE}, user: alice}}
  - {{token: {BOB}, user: bob}}
  - {{token: {ADMIN}, user: platform, admin: true}}
""")
        self.daemon = h.Daemon(self.procs, self.dir, """memory:
  queues: [meme-queue]
sessions:
  setup_deadline: 4
  unused_ttl: 6
""", resources, tokens).start()
        self.procs.start([h.QSPLIT, "exec", "--workload", "deployment/meme-app", "--", "sleep", "600"],
                         "exec", {"QSPLIT_SERVER": self.daemon.url, "QSPLIT_TOKEN": ADMIN,
                                  "QUEUE_NAME": "meme-queue"})
        h.eventually(lambda: self.daemon.get("/api/v1/workloads", token=ADMIN)[1]["workloads"],
                     30, "qsplit exec to register")

    def start(self, token, message_filter=None, config=None):
        config = config or json.loads(h.user_config("meme-app", "meme-queue",
                                                    message_filter or {"author": "^a$"}))
        return self.daemon.request("POST", "/api/v1/sessions", {"config": config}, token=token)

    def assertError(self, answer, status, code, *words):
        got_status, body = answer
        self.assertEqual(got_status, status, body)
        self.assertEqual(body["error"]["code"], code, body)
        for w in words:
            self.assertIn(w, body["error"]["message"])

    def assertNothingChanged(self):
        self.assertEqual(self.daemon.sessions(ADMIN), [])
        self.assertEqual(self.daemon.queues(ADMIN), [])

    def test_every_api_call_needs_a_known_token(self):
        self.assertError(self.daemon.get("/api/v1/sessions"), 401, "unauthenticated", "bearer token")
        self.assertError(self.daemon.get("/api/v1/sessions", token="not-a-known-token-at-all"), 401,
                         "unauthenticated", "not one qsplitd knows")
        self.assertError(self.start(None), 401, "unauthenticated")
        self.assertNothingChanged()
        self.assertEqual(self.daemon.get("/healthz", raw=True)[0], 200)
        self.assertEqual(self.daemon.get("/metrics", raw=True)[0], 200)

    def test_only_the_owner_or_an_admin_ends_a_session(self):
        status, session = self.start(ALICE)
        self.assertEqual(status, 201, session)
        self.assertEqual(session["owner"], "alice")
        self.assertEqual(list(session["env"]), ["QUEUE_NAME"])
        self.assertTrue(session["env"]["QUEUE_NAME"].startswith("mirrord-tmp-"))
        sid = session["id"]
        self.assertError(self.daemon.request("DELETE", f"/api/v1/sessions/{sid}", token=BOB), 403,
                         "permission_denied", "belongs to alice")
        self.assertError(self.daemon.request("POST", f"/api/v1/sessions/{sid}/heartbeat", token=BOB),
                         403, "permission_denied")
        status, beat = self.daemon.request("POST", f"/api/v1/sessions/{sid}/heartbeat", token=ALICE)
        self.assertEqual((status, beat["state"]), (200, "connected"))
        self.assertEqual([s["id"] for s in self.daemon.sessions(BOB)], [sid])
        status, _ = self.daemon.request("DELETE", f"/api/v1/sessions/{sid}", token=ADMIN)
        self.assertEqual(status, 200)
        self.assertError(self.daemon.get(f"/api/v1/sessions/{sid}", token=ALICE), 404, "not_found")

    def test_bad_requests_are_refused_and_change_nothing(self):
        post = lambda data: self.daemon.request("POST", "/api/v1/sessions", token=ALICE, data=data)
        self.assertError(post(b"{not json"), 400, "invalid_argument", "not a JSON object")
        self.assertError(post(b"[1, 2]"), 400, "invalid_argument", "not a JSON object")
        self.assertError(post(b"{}"), 400, "invalid_argument", "config")
        self.assertError(post(json.dumps({"config": {}, "target": 7}).encode()), 400,
                         "invalid_argument", "target")
        big = json.dumps({"config": {"pad": "x" * (2 << 20)}}).encode()
        self.assertError(post(big), 413, "payload_too_large")
        self.assertError(self.start(ALICE, config=json.loads(h.user_config("meme-app", "nope", {"a": "b"}))),
                         400, "invalid_argument", "queue id 'nope'", "declared: meme-queue")
        self.assertError(self.start(ALICE, {"author": "^(?!bot)"}), 400, "invalid_argument",
                         "message_filter.author", "RE2 cannot compile")
        self.assertError(self.start(ALICE, config=json.loads(h.user_config("other-app", "meme-queue", {"a": "b"}))),
                         409, "failed_precondition", "deployment/other-app")
        for method, path in [("POST", "/api/v1/sessions/123/heartbeat"), ("DELETE", "/api/v1/sessions/123"),
                             ("GET", "/api/v1/sessions/123"), ("GET", "/api/v1/queues/nope")]:
            self.assertError(self.daemon.request(method, path, token=ALICE), 404, "not_found")
        self.assertError(self.daemon.get("/api/v2/sessions", token=ALICE), 404, "not_found", "no such path")
        self.assertNothingChanged()
        # ... and a good request still works afterwards.
        self.assertEqual(self.start(ALICE)[0], 201)

    def test_sessions_expire_and_end_as_if_their_owner_ended_them(self):
        status, quiet = self.start(ALICE)  # never heartbeats: the setup deadline
        self.assertEqual(status, 201)
        status, alive = self.start(BOB, {"author": "^b$"})
        self.assertEqual(status, 201)
        deadline = time.time() + 8
        while time.time() < deadline:  # bob heartbeats, alice does not
            self.daemon.request("POST", f"/api/v1/sessions/{alive['id']}/heartbeat", token=BOB)
            time.sleep(1)
        self.assertEqual([s["id"] for s in self.daemon.sessions(ADMIN)], [alive["id"]])
        self.assertIn(f"session={quiet['id']} expired (SetupDeadlineExceeded", self.daemon.log())
        h.eventually(lambda: not self.daemon.sessions(ADMIN), 30, "bob's session to expire unused")
        self.assertIn(f"session={alive['id']} expired (Unused", self.daemon.log())

    def test_metrics_count_per_queue_and_session(self):
        status, session = self.start(ALICE)
        self.assertEqual(status, 201)
        _, text = self.daemon.get("/metrics", raw=True)
        self.assertIn('mirrord_read_sqs_messages_count{original_queue="meme-queue"} 0', text)
        self.assertIn('mirrord_unmatched_sqs_messages_count{original_queue="meme-queue"} 0', text)
        self.assertIn("qsplit_sessions 1", text)
        _, queues = self.daemon.get("/api/v1/queues/meme-queue", token=BOB)
        self.assertEqual(queues["state"], "splitting")
        self.assertEqual((queues["original_backlog"], queues["fallback_backlog"]), (0, 0))
        self.assertEqual([s["session"] for s in queues["sessions"]], [session["id"]])

    def test_cli_messages_name_the_cause(self):
        def cli(*args, token=ALICE, server=None):
            env = dict(os.environ, QSPLIT_SERVER=server or self.daemon.url, QSPLIT_TOKEN=token)
            env.pop("QSPLIT_CLIENT_CONFIG", None)
            return subprocess.run([h.QSPLIT] + list(args), env=env, capture_output=True, text=True,
                                  timeout=60)
        r = cli("status", server="http://127.0.0.1:9")
        self.assertEqual(r.returncode, 2)
        self.assertIn("qsplitd at http://127.0.0.1:9 is unreachable", r.stderr)
        r = cli("sessions", "list", token="wrong-token-0123456789")
        self.assertEqual(r.returncode, 2)
        self.assertIn("refused the credentials", r.stderr)
        config = h.write(os.path.join(self.dir, "bad.json"),
                         h.user_config("meme-app", "meme-queue", {"author": "(unclosed"}))
        r = cli("run", "-f", config, "--", "true")
        self.assertEqual(r.returncode, 2)
        self.assertIn("message_filter.author", r.stderr)
        status, session = self.start(ALICE)
        # Tables: each column starts where its title does, on every row.
        r = cli("sessions", "list")
        header, row = r.stdout.splitlines()[:2]
        self.assertEqual(header.split(), ["SESSION", "OWNER", "TARGET", "STATE", "QUEUE", "SESSION", "QUEUE"])
        self.assertEqual(row.index("alice"), header.index("OWNER"))
        self.assertEqual(row.index(session["queues"][0]["temporary"]), header.index("SESSION QUEUE"))
        listed = json.loads(cli("sessions", "list", "--output", "json").stdout)
        self.assertEqual([s["id"] for s in listed], [session["id"]])
        r = cli("status")
        self.assertIn("meme-queue", r.stdout)
        self.assertIn(session["id"], r.stdout)
        lines = r.stdout.splitlines()
        titles = [i for i, line in enumerate(lines) if line.startswith("QUEUE ")]
        self.assertEqual(len(titles), 2, r.stdout)  # split queues, then their sessions
        routed = lines[titles[1] + 1]
        self.assertEqual(routed.index(session["id"]), lines[titles[1]].index("SESSION"))
        both = json.loads(cli("status", "-o", "json").stdout)
        self.assertEqual([s["id"] for s in both["sessions"]], [session["id"]])
        self.assertEqual([q["state"] for q in both["queues"]], ["splitting"])
        r = cli("sessions", "end", session["id"], token=BOB)
        self.assertEqual(r.returncode, 2)
        self.assertIn("belongs to alice", r.stderr)
        r = cli("sessions", "end", session["id"])
        self.assertEqual(r.returncode, 0, r.stderr)


class ApiOverTls(unittest.TestCase):
    """tls.cert and tls.key: qsplitd serves https, and the CLI trusts the CA it is given."""

    def test_https_with_a_private_ca(self):
        self.dir = h.tempdir("tls")
        procs = h.Processes(self.dir)
        self.addCleanup(procs.stop_all)
        cert, key = os.path.join(self.dir, "cert.pem"), os.path.join(self.dir, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert], check=True, capture_output=True)
        resources = os.path.join(self.dir, "resources")
        os.makedirs(resources)
        h.write(os.path.join(resources, "registry.yaml"),
                h.registry_yaml("meme-app", "meme-queue", "QUEUE_NAME"))
        daemon = h.Daemon(procs, self.dir, f"""tls: {{cert: {cert}, key: {key}}}
memory: {{queues: [meme-queue]}}
""", resources, ca_file=cert).start()
        self.assertTrue(daemon.url.startswith("https://"))
        self.assertEqual(daemon.sessions(), [])
        env = dict(os.environ, QSPLIT_SERVER=daemon.url)
        trusted = subprocess.run([h.QSPLIT, "sessions", "list", "--ca-cert", cert], env=env,
                                 capture_output=True, text=True, timeout=60)
        self.assertEqual(trusted.returncode, 0, trusted.stderr)
        untrusted = subprocess.run([h.QSPLIT, "sessions", "list"], env=env, capture_output=True,
                                   text=True, timeout=60)
        self.assertEqual(untrusted.returncode, 2)
        self.assertIn("unreachable", untrusted.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
