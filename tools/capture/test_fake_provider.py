#!/usr/bin/env python3
"""Self-test of fake_provider.py (standard library only, loopback only).

    python3.11 tools/capture/test_fake_provider.py

Not part of CI: it checks the harness, not the product.
"""

from __future__ import annotations

import json
import tempfile
import unittest
import urllib.error
import urllib.request
from pathlib import Path

import fake_provider

KEY1 = "sk-FAKESECRET-test-key1-0001"
KEY2 = "sk-FAKESECRET-test-key2-0002"
PLAN = {
    "endpoints": {"primary": 0, "fallback": 0},
    "keys": {KEY1: "key1", KEY2: "key2"},
    "answers": {
        "primary": {"key1": ["retry_after:7", "usage_limit:60", "ok"], "*": ["billing_402"]},
        "fallback": {"*": ["zai_1113"]},
    },
}


class FakeProviderTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.log = Path(self.tmp.name) / "requests.log"
        self.servers = fake_provider.serve(PLAN, str(self.log))
        self.ports = {role: srv.server_address[1] for role, srv in self.servers.items()}

    def tearDown(self):
        for srv in self.servers.values():
            srv.shutdown()
            srv.server_close()
        self.tmp.cleanup()

    def call(self, role, path, key=None, body=None):
        url = f"http://127.0.0.1:{self.ports[role]}{path}"
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                return resp.status, resp.headers, resp.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.headers, err.read().decode()

    def chat(self, role, key, stream=True):
        return self.call(role, "/v1/chat/completions", key,
                         {"model": "fake-model-1", "stream": stream, "messages": []})

    def test_scripted_sequence_per_key_then_last_answer_repeats(self):
        status, headers, _ = self.chat("primary", KEY1)
        self.assertEqual((status, headers.get("Retry-After")), (429, "7"))
        status, _, body = self.chat("primary", KEY1)
        err = json.loads(body)["error"]
        self.assertEqual((status, err["type"], err["resets_in_seconds"]), (429, "usage_limit_reached", 60))
        status, _, body = self.chat("primary", KEY1)
        self.assertEqual(status, 200)
        chunks = [json.loads(line[6:]) for line in body.splitlines()
                  if line.startswith("data: {")]
        text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
        self.assertEqual(text, "Hello from fake provider primary (key1).")
        self.assertTrue(body.rstrip().endswith("data: [DONE]"))
        self.assertEqual(self.chat("primary", KEY1, stream=False)[0], 200)

    def test_default_answer_unknown_key_and_fallback_role(self):
        self.assertEqual(self.chat("primary", KEY2)[0], 402)
        status, _, body = self.chat("primary", "no-key-required")
        self.assertEqual((status, json.loads(body)["error"]["code"]), (401, "invalid_api_key"))
        status, _, body = self.chat("fallback", KEY2)
        self.assertEqual((status, json.loads(body)["error"]["code"]), (429, "1113"))

    def test_probe_endpoints(self):
        status, _, body = self.call("primary", "/v1/models")
        self.assertEqual((status, json.loads(body)["data"][0]["id"]), (200, "fake-model-1"))
        self.assertEqual(self.call("primary", "/api/v1/models", KEY1)[0], 200)
        self.assertEqual(self.call("primary", "/v1/models/fake-model-1", KEY1)[0], 404)
        self.assertEqual(self.call("primary", "/api/show", KEY1, {"name": "x"})[0], 404)

    def test_request_log_has_labels_and_never_the_key(self):
        self.chat("primary", KEY1)
        self.call("primary", "/v1/models")
        lines = self.log.read_text().splitlines()
        self.assertNotIn("FAKESECRET", self.log.read_text())
        first = lines[0].split("\t")
        self.assertEqual(len(first), 13)
        self.assertEqual(first[2:7], ["primary", str(self.ports["primary"]), "POST",
                                      "/v1/chat/completions", "key=key1"])
        self.assertEqual(first[7:], ["suffix=0001", "stream=True", "model=fake-model-1", "->",
                                     "429", "retry_after_7"])
        self.assertIn("key=none", lines[1])


if __name__ == "__main__":
    unittest.main()
