#!/usr/bin/env python3
"""Fake OpenAI-compatible provider for capturing real Hermes Agent output.

Python standard library only. Binds 127.0.0.1 only. One process serves every
endpoint ("role") of a plan, each on its own port, and scripts its answers per
role, per API key and per call.

Plan file (JSON)::

    {
      "endpoints": {"primary": 18081, "fallback": 18082},
      "keys": {"sk-FAKESECRET-...": "key1", ...},          # full key -> label
      "answers": {
        "primary":  {"key1": ["rate_limit_plain", "ok"], "*": ["ok"]},
        "fallback": {"*": ["zai_1113"]}
      }
    }

Each chat completion on (role, key label) consumes the next answer of that
list; the last answer repeats. "*" is the default for the plan's keys without a
list. A chat completion with no key or with a key the plan does not know (label
"none" / "other", e.g. a placeholder key) gets 401 unless the plan lists that label.
Answer names (optionally with a ":N" argument) are listed in ANSWERS below.

Every request is appended to the request log (the ground truth), one line,
tab-separated::

    ISO-time  epoch  role  port  METHOD  path  key=<label|none|other>  suffix=<last 4>
    stream=<bool>  model=<m|->  ->  <status>  <answer tag>

The key itself is never written: only its label and its last four characters.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODEL_CONTEXT = 131072


def _err(message: str, **extra) -> dict:
    body = {"message": message}
    body.update(extra)
    return {"error": body}


def usage_limit(now: float, arg: str | None):
    """Codex-style quota wall: 429 usage_limit_reached with a reset hours away."""
    secs = int(arg) if arg else 14400
    return 429, {}, {
        "error": {
            "type": "usage_limit_reached",
            "message": "The usage limit has been reached",
            "plan_type": "team",
            "resets_at": int(now) + secs,
            "resets_in_seconds": secs,
        }
    }


def rate_limit_plain(now: float, arg: str | None):
    """Plain 429 without quota wording and without Retry-After."""
    return 429, {}, {"error": {"type": "rate_limit_error", "message": "Rate limit reached for requests"}}


def retry_after(now: float, arg: str | None):
    """Plain 429 with a Retry-After header (seconds)."""
    secs = arg or "600"
    return 429, {"Retry-After": secs}, {
        "error": {"type": "rate_limit_error", "message": "Rate limit reached for requests"}
    }


def zai_1113(now: float, arg: str | None):
    """Z.AI-style insufficient balance: HTTP 429 with business code 1113."""
    return 429, {}, {"error": {"code": "1113", "message": "Insufficient balance or no resource package. Please recharge."}}


def billing_402(now: float, arg: str | None):
    """402 payment required (credits exhausted)."""
    return 402, {}, _err(
        "Insufficient credits. Add more using the billing page.", type="insufficient_credits", code=402
    )


def invalid_key_401(now: float, arg: str | None):
    """401 invalid API key."""
    return 401, {}, _err("Incorrect API key provided.", type="invalid_request_error", code="invalid_api_key")


def server_500(now: float, arg: str | None):
    """500 internal server error."""
    return 500, {}, _err("The server had an error while processing your request.", type="server_error")


def overloaded_503(now: float, arg: str | None):
    """503 service unavailable (transient)."""
    return 503, {}, _err("Service temporarily unavailable.", type="service_unavailable")


ANSWERS = {
    "usage_limit": usage_limit,
    "rate_limit_plain": rate_limit_plain,
    "retry_after": retry_after,
    "zai_1113": zai_1113,
    "billing_402": billing_402,
    "invalid_key_401": invalid_key_401,
    "server_500": server_500,
    "overloaded_503": overloaded_503,
}


class Plan:
    """Scripted answers, consumed per (role, key label); thread-safe."""

    def __init__(self, data: dict):
        self.keys: dict[str, str] = data.get("keys", {})
        self.answers: dict[str, dict[str, list[str]]] = data.get("answers", {})
        self.calls: dict[tuple[str, str], int] = {}
        self.lock = threading.Lock()

    def label(self, key: str | None) -> str:
        if not key:
            return "none"
        return self.keys.get(key, "other")

    def next_answer(self, role: str, label: str) -> str:
        per_role = self.answers.get(role, {})
        if label in ("none", "other") and label not in per_role:
            # No key, or a key the plan does not know (e.g. a placeholder such as
            # "no-key-required"): a real provider rejects it.
            return "invalid_key_401"
        seq = per_role.get(label) or per_role.get("*") or ["ok"]
        with self.lock:
            n = self.calls.get((role, label), 0)
            self.calls[(role, label)] = n + 1
        return seq[min(n, len(seq) - 1)]


class RequestLog:
    """Append-only ground-truth log; one flushed line per request."""

    def __init__(self, path: str):
        self.path = path
        self.lock = threading.Lock()

    def write(self, fields: list[str]) -> None:
        now = time.time()
        iso = datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        line = "\t".join([iso, f"{now:.3f}"] + fields) + "\n"
        with self.lock, open(self.path, "a", encoding="utf-8") as fh:
            fh.write(line)


def make_handler(role: str, port: int, plan: Plan, log: RequestLog):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "fake-provider/1"

        def log_message(self, fmt, *args):  # silence stderr access log
            pass

        # -- helpers -------------------------------------------------
        def _key(self) -> str | None:
            auth = self.headers.get("Authorization") or ""
            if auth.lower().startswith("bearer "):
                auth = auth[7:].strip()
            auth = auth or self.headers.get("x-api-key") or self.headers.get("api-key") or ""
            return auth or None

        def _body(self) -> dict:
            raw = b""
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                while True:
                    size = int(self.rfile.readline().strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline()
                        break
                    raw += self.rfile.read(size)
                    self.rfile.readline()
            else:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
            try:
                return json.loads(raw or b"{}")
            except ValueError:
                return {}

        def _json(self, status: int, payload: dict, headers: dict | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _record(self, key, stream, model, status, tag) -> None:
            label = plan.label(key)
            suffix = key[-4:] if key else "-"
            log.write([role, str(port), self.command, self.path, f"key={label}", f"suffix={suffix}",
                       f"stream={stream}", f"model={model or '-'}", "->", str(status), tag])

        def _models(self) -> dict:
            return {"object": "list", "data": [{
                "id": "fake-model-1", "object": "model", "created": 1700000000, "owned_by": "fake",
                "context_length": MODEL_CONTEXT,
            }, {
                "id": "fake-model-2", "object": "model", "created": 1700000000, "owned_by": "fake",
                "context_length": MODEL_CONTEXT,
            }]}

        # -- verbs ---------------------------------------------------
        def do_GET(self):
            key = self._key()
            path = self.path.split("?", 1)[0].rstrip("/")
            if path in ("/v1/models", "/api/v1/models", "/models"):
                self._record(key, False, None, 200, "models")
                self._json(200, self._models())
            elif path.startswith("/v1/models/"):
                self._record(key, False, None, 404, "not_found")
                self._json(404, _err("model not found", type="not_found"))
            else:
                self._record(key, False, None, 404, "unsupported_path")
                self._json(404, _err("unsupported path", type="not_found"))

        def do_POST(self):
            key = self._key()
            body = self._body()
            path = self.path.split("?", 1)[0].rstrip("/")
            stream = bool(body.get("stream"))
            model = body.get("model")
            if path not in ("/v1/chat/completions", "/chat/completions"):
                self._record(key, stream, None, 404, "unsupported_path")
                self._json(404, _err("unsupported path", type="not_found"))
                return
            label = plan.label(key)
            answer = plan.next_answer(role, label)
            name, _, arg = answer.partition(":")
            if name == "ok":
                self._record(key, stream, model, 200, "ok")
                self._ok(label, model or "fake-model-1", stream)
                return
            if name == "drop":
                # A transport failure: the request arrived, the connection closes unanswered.
                self._record(key, stream, model, 0, "drop")
                self.close_connection = True
                try:
                    self.connection.shutdown(2)
                except OSError:
                    pass
                return
            fn = ANSWERS.get(name)
            if fn is None:
                self._record(key, stream, model, 500, f"bad_plan:{name}")
                self._json(500, _err(f"fake provider: unknown answer {name}"))
                return
            status, headers, payload = fn(time.time(), arg or None)
            tag = name if not arg else f"{name}_{arg}"
            self._record(key, stream, model, status, tag)
            self._json(status, payload, headers)

        def _ok(self, label: str, model: str, stream: bool) -> None:
            text = f"Hello from fake provider {role} ({label})."
            cid = f"chatcmpl-fake{int(time.time() * 1000)}"
            created = int(time.time())
            usage = {"prompt_tokens": 42, "completion_tokens": 9, "total_tokens": 51}
            if not stream:
                self._json(200, {
                    "id": cid, "object": "chat.completion", "created": created, "model": model,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                 "finish_reason": "stop"}],
                    "usage": usage,
                })
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True

            def chunk(delta, finish=None, with_usage=False):
                obj = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                       "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
                if with_usage:
                    obj["choices"] = []
                    obj["usage"] = usage
                self.wfile.write(f"data: {json.dumps(obj)}\n\n".encode())
                self.wfile.flush()

            chunk({"role": "assistant", "content": ""})
            for word in text.split(" "):
                chunk({"content": word if word == text.split(" ")[0] else " " + word})
            chunk({}, "stop")
            chunk({}, with_usage=True)
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()

    return Handler


def serve(data: dict, log_path: str) -> dict[str, ThreadingHTTPServer]:
    """Start one loopback server per endpoint of the plan (port 0 = any free port)."""
    plan = Plan(data)
    log = RequestLog(log_path)
    servers = {}
    for role, port in data["endpoints"].items():
        srv = ThreadingHTTPServer(("127.0.0.1", int(port)), BaseHTTPRequestHandler)
        srv.RequestHandlerClass = make_handler(role, srv.server_address[1], plan, log)
        srv.daemon_threads = True
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers[role] = srv
    return servers


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plan", required=True, help="plan JSON file")
    ap.add_argument("--log", required=True, help="request log to append to")
    ap.add_argument("--ready", help="file to create once every port listens")
    args = ap.parse_args()
    with open(args.plan, encoding="utf-8") as fh:
        data = json.load(fh)
    serve(data, args.log)
    if args.ready:
        with open(args.ready, "w", encoding="utf-8") as fh:
            fh.write("ready\n")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
