#!/usr/bin/env python3
"""Run one capture scenario against the real Hermes Agent, isolated on loopback.

Usage (as root)::

    run_scenario.py --version 0.19.0 --scenario tools/capture/scenarios/healthy-rotation.json \
        --out fixtures/captured/hermes-0.19.0/healthy-rotation

The outer call re-executes itself under ``unshare -n`` (a private network
namespace in which only loopback is brought up), so neither the fake provider
nor Hermes can reach any other address. Inside, it:

1. creates a fresh ``HOME`` / ``HERMES_HOME``, writes ``config.yaml`` and a fresh
   ``.update_check`` cache;
2. starts ``fake_provider.py`` with a plan built from the scenario;
3. adds the pool keys with ``hermes auth add``;
4. snapshots ``auth.json`` and ``hermes auth list`` (before);
5. runs every ``hermes chat -q`` turn under ``timeout``;
6. snapshots auth again (after) and copies ``logs/agent.log``, ``logs/errors.log``;
7. writes ``requests.log`` (the fake provider's ground truth), ``source.md`` and
   ``expected.json`` (ground truth from the request log, judgement from the scenario file).

Nothing Hermes wrote is edited.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_VENVS = Path(os.environ.get("HERMES_CAPTURE_VENVS", "/work/.capture-venvs"))
PRIMARY_PORT = 18081
FALLBACK_PORT = 18082
STORED_PORT = 18083  # a pool entry's stored endpoint, when a scenario makes it differ from config
MARKER = "FAKESECRET"
INPUTS = [
    "logs/agent.log",
    "logs/errors.log",
    "stdout.txt",
    "auth.before.json",
    "auth.after.json",
    "auth-list.before.txt",
    "auth-list.after.txt",
]


def iso_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def primary_key(n: int) -> str:
    return f"sk-{MARKER}-prim-key{n}-7f3a9c2e{n:02d}"


def fallback_key(n: int) -> str:
    return f"sk-{MARKER}-fb-key{n}-5b8d1e4a{n:02d}"


# --------------------------------------------------------------------------- config


def yaml_scalar(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    s = str(v)
    if s and all(c.isalnum() or c in "-_.:/" for c in s) and s.lower() not in ("true", "false", "null", "yes", "no"):
        return s
    return json.dumps(s)  # JSON strings are valid YAML double-quoted scalars


def to_yaml(obj, indent: int = 0) -> str:
    """Tiny YAML emitter for the plain dict/list/scalar trees we write."""
    pad = "  " * indent
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, (dict, list)):
                out.append(f"{pad}{k}:")
                out.append(to_yaml(v, indent + 1))
            else:
                out.append(f"{pad}{k}: {yaml_scalar(v)}")
    elif isinstance(obj, list):
        for item in obj:
            if isinstance(item, dict):
                lines = to_yaml(item, indent + 1).split("\n")
                first = lines[0].lstrip()
                out.append(f"{pad}- {first}")
                out.extend(lines[1:])
            else:
                out.append(f"{pad}- {yaml_scalar(item)}")
    return "\n".join(line for line in out if line != "")


def build_config(sc: dict) -> dict:
    name = sc.get("primary_name", "fakeprimary")
    cfg: dict = {
        "model": {"provider": name, "default": "fake-model-1"},
        "custom_providers": [
            {"name": name, "base_url": f"http://127.0.0.1:{PRIMARY_PORT}/v1", "model": "fake-model-1"}
        ],
        "credential_pool_strategies": {f"custom:{name}": sc.get("strategy", "fill_first")},
        "agent": {"api_max_retries": sc.get("api_max_retries", 3)},
    }
    fb = sc.get("fallback")
    if fb:
        key = fb.get("config_key", "fallback_providers")
        if fb["kind"] == "pooled":  # a named custom provider with its own credential pool
            fb_name = fb.get("provider", "fakefallback")
            cfg["custom_providers"].append(
                {"name": fb_name, "base_url": f"http://127.0.0.1:{FALLBACK_PORT}/v1",
                 "model": fb.get("model", "glm-fake-1")})
            cfg["credential_pool_strategies"][f"custom:{fb_name}"] = "fill_first"
            entry = {
                "provider": fb_name,
                "model": fb.get("model", "glm-fake-1"),
                "base_url": f"http://127.0.0.1:{FALLBACK_PORT}/v1",
            }
        elif fb["kind"] == "separate":
            entry = {
                "provider": "custom",
                "model": fb.get("model", "glm-fake-1"),
                "base_url": f"http://127.0.0.1:{FALLBACK_PORT}/v1",
                "key_env": "FAKE_FALLBACK_API_KEY",
            }
        else:  # same backend as the primary
            entry = {
                "provider": fb.get("provider", name),
                "model": fb.get("model", "fake-model-2"),
                "base_url": f"http://127.0.0.1:{PRIMARY_PORT}/v1",
            }
        cfg[key] = [entry] if key == "fallback_providers" else entry
    cfg["security"] = {"tirith_enabled": False}
    return cfg


def build_plan(sc: dict) -> dict:
    keys = {primary_key(n): f"key{n}" for n in range(1, sc["primary_keys"] + 1)}
    endpoints = {"primary": PRIMARY_PORT}
    fb = sc.get("fallback")
    if fb and fb["kind"] in ("separate", "pooled"):
        endpoints["fallback"] = FALLBACK_PORT
        for n in range(1, int(fb.get("keys", 1)) + 1):
            keys[fallback_key(n)] = f"fbkey{n}"
    if sc.get("entry_base_url"):
        endpoints["stored"] = STORED_PORT
    return {"endpoints": endpoints, "keys": keys, "answers": sc["answers"]}


def stored_url(url: str) -> str:
    return url.replace("{stored}", f"http://127.0.0.1:{STORED_PORT}/v1")


# --------------------------------------------------------------------------- inside


class Runner:
    def __init__(self, args, sc: dict):
        self.args = args
        self.sc = sc
        self.version = args.version
        self.out = Path(args.out).resolve()
        self.work = Path(args.work).resolve()
        self.home = self.work / "home"
        self.hermes_home = self.home / ".hermes"
        self.venv = Path(args.venvs) / f"hermes-{self.version}"
        self.hermes = self.venv / "bin" / "hermes"
        self.reqlog = self.out / "requests.log"
        self.env = {
            "PATH": f"{self.venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.home),
            "HERMES_HOME": str(self.hermes_home),
            "HERMES_DISABLE_LAZY_INSTALLS": "1",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "TZ": "UTC",
            "TERM": "dumb",
            "COLUMNS": "80",
            "PYTHONDONTWRITEBYTECODE": "1",
            "FAKE_FALLBACK_API_KEY": fallback_key(1),
        }

    def driver_line(self, *fields: str) -> None:
        with open(self.reqlog, "a", encoding="utf-8") as fh:
            fh.write("\t".join([iso_now(), "-", "driver", "-", *fields]) + "\n")

    def hermes_cmd(self, argv: list[str], timeout: int, **kw) -> subprocess.CompletedProcess:
        cmd = ["timeout", "--kill-after=10", str(timeout), str(self.hermes), *argv]
        return subprocess.run(cmd, env=self.env, cwd=self.home, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, **kw)

    def run_turn(self, n: int, query: str, timeout: int) -> subprocess.CompletedProcess:
        """Run turn ``n`` (1-based); ``run_journald.py`` overrides this to record a journal."""
        return self.hermes_cmd(["chat", "-q", query], timeout)

    def finish(self) -> None:
        """Called after the turns and the auth snapshots, before the documents are written."""

    def check_isolation(self) -> str:
        links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
        names = [ln.split(":")[1].strip() for ln in links.splitlines() if ":" in ln]
        if names != ["lo"]:
            raise SystemExit(f"refusing to run: network namespace has interfaces {names}")
        routes = subprocess.run(["ip", "route", "show"], capture_output=True, text=True).stdout.strip()
        if routes:
            raise SystemExit(f"refusing to run: routes present: {routes}")
        return "only lo, no routes"

    def setup_home(self) -> None:
        if self.work.exists():
            shutil.rmtree(self.work)
        self.hermes_home.mkdir(parents=True)
        (self.hermes_home / "config.yaml").write_text(to_yaml(build_config(self.sc)) + "\n")
        version = subprocess.run(
            [str(self.venv / "bin" / "python"), "-c",
             "from hermes_cli import __version__ as v; print(v)"],
            capture_output=True, text=True, env=self.env).stdout.strip() or self.version
        (self.hermes_home / ".update_check").write_text(
            json.dumps({"ts": time.time(), "behind": 0, "rev": None, "ver": version}))
        (self.work / "plan.json").write_text(json.dumps(build_plan(self.sc), indent=2))

    def start_provider(self) -> subprocess.Popen:
        ready = self.work / "provider.ready"
        proc = subprocess.Popen(
            [sys.executable, str(HERE / "fake_provider.py"), "--plan", str(self.work / "plan.json"),
             "--log", str(self.reqlog), "--ready", str(ready)],
            stdout=open(self.work / "provider.out", "w"), stderr=subprocess.STDOUT)
        for _ in range(100):
            if ready.exists():
                return proc
            if proc.poll() is not None:
                raise SystemExit("fake provider exited early; see provider.out")
            time.sleep(0.05)
        proc.kill()
        raise SystemExit("fake provider did not start")

    def set_entry_base_urls(self) -> None:
        """Give pool entries a stored endpoint other than the configured one, as auth.json keeps
        the endpoint an entry was added under after config.yaml moves the provider elsewhere."""
        wanted = self.sc.get("entry_base_url") or {}
        if not wanted:
            return
        auth = self.hermes_home / "auth.json"
        data = json.loads(auth.read_text())
        for pool_key, by_label in wanted.items():
            for entry in data.get("credential_pool", {}).get(pool_key, []):
                if entry.get("label") in by_label:
                    entry["base_url"] = stored_url(by_label[entry["label"]])
        auth.write_text(json.dumps(data, indent=2) + "\n")

    def snapshot(self, tag: str) -> None:
        auth = self.hermes_home / "auth.json"
        if auth.exists():
            shutil.copyfile(auth, self.out / f"auth.{tag}.json")
        res = self.hermes_cmd(["auth", "list"], 120)
        (self.out / f"auth-list.{tag}.txt").write_text(res.stdout)

    def run(self) -> int:
        isolation = self.check_isolation()
        if self.out.exists():
            shutil.rmtree(self.out)
        self.out.mkdir(parents=True)
        (self.out / "logs").mkdir()
        self.setup_home()
        shutil.copyfile(self.hermes_home / "config.yaml", self.out / "config.yaml")
        provider = self.start_provider()
        try:
            name = self.sc.get("primary_name", "fakeprimary")
            for n in range(1, self.sc["primary_keys"] + 1):
                res = self.hermes_cmd(["auth", "add", name, "--type", "api-key", "--api-key",
                                       primary_key(n), "--label", f"prim-acct-{n}"], 120)
                if res.returncode != 0:
                    raise SystemExit(f"hermes auth add failed rc={res.returncode}: {res.stderr[-2000:]}")
            fb = self.sc.get("fallback") or {}
            if fb.get("kind") == "pooled":
                fb_name = fb.get("provider", "fakefallback")
                for n in range(1, int(fb.get("keys", 1)) + 1):
                    res = self.hermes_cmd(["auth", "add", fb_name, "--type", "api-key", "--api-key",
                                           fallback_key(n), "--label", f"fb-acct-{n}"], 120)
                    if res.returncode != 0:
                        raise SystemExit(f"hermes auth add failed rc={res.returncode}: {res.stderr[-2000:]}")
            self.set_entry_base_urls()
            self.snapshot("before")
            stdout, stderr = [], []
            for i, turn in enumerate(self.sc["turns"], 1):
                query = turn if isinstance(turn, str) else turn["query"]
                self.driver_line("RUN", str(i), "start", f"query={query}")
                t0 = time.time()
                res = self.run_turn(i, query, int(self.sc.get("turn_timeout", 240)))
                self.driver_line("RUN", str(i), "end", f"rc={res.returncode}")
                print(f"  turn {i}: rc={res.returncode} in {time.time() - t0:.0f}s", flush=True)
                stdout.append(res.stdout)
                stderr.append(res.stderr)
                pause = turn.get("pause_after", 0) if isinstance(turn, dict) else 0
                if pause:
                    time.sleep(pause)
            (self.out / "stdout.txt").write_text("".join(stdout))
            (self.out / "stderr.txt").write_text("".join(stderr))
            self.snapshot("after")
        finally:
            provider.send_signal(signal.SIGINT)
            try:
                provider.wait(5)
            except subprocess.TimeoutExpired:
                provider.kill()
        logs = self.hermes_home / "logs"
        extra = []
        for f in sorted(logs.iterdir()) if logs.exists() else []:
            if f.name in ("agent.log", "errors.log"):
                shutil.copyfile(f, self.out / "logs" / f.name)
            else:
                extra.append(f.name)
        self.finish()
        meta = {"isolation": isolation, "extra_log_files": extra}
        write_docs(self.out, self.sc, self.version, meta)
        print(f"  done: {self.out} {json.dumps(meta)}", flush=True)
        return 0


# --------------------------------------------------------------------------- docs


def ground_truth(reqlog: Path) -> tuple[str, list[list[str]]]:
    """Summarise chat completions per turn: 'turn 1: key1 429 usage_limit, key2 200'."""
    turns: list[list[str]] = []
    for line in reqlog.read_text().splitlines():
        f = line.split("\t")
        if len(f) > 6 and f[2] == "driver" and f[6] == "start":
            turns.append([])
        elif len(f) > 7 and f[2] == "driver" and f[6] == "end" and f[7] == "rc=124" and turns:
            turns[-1].append("run cut by timeout (rc=124)")
        elif len(f) >= 13 and f[5].endswith("/chat/completions") and turns:
            label = f[6].removeprefix("key=")
            if label in ("none", "other"):
                label = f"{label}-key(...{f[7].removeprefix('suffix=')})"
            who = label if f[2] == "primary" else f"{f[2]}:{label}"
            status, tag = f[11], f[12]
            turns[-1].append(f"{who} {status}" + ("" if tag == "ok" else f" {tag}"))
    parts = [", ".join(t) or "no chat request" for t in turns]
    if len(parts) == 1:
        return parts[0], turns
    return "; ".join(f"turn {i}: {p}" for i, p in enumerate(parts, 1)), turns


def pick(sc: dict, field: str, version: str, default=None):
    """Scenario judgement, with per-version overrides under versions.<v>.<field>."""
    per = sc.get("versions", {}).get(version, {})
    return per.get(field, sc.get(field, default))


def describe_answers(sc: dict) -> str:
    lines = []
    for role, per_key in sc["answers"].items():
        for key, seq in per_key.items():
            who = ("every other pooled key" if role == "primary" else "every key") if key == "*" else key
            lines.append(f"- {role} {who}: {', '.join(seq)} (the last answer repeats)")
    lines.append("- a request with no key or a key not in the plan (e.g. a placeholder): 401 invalid_key_401")
    return "\n".join(lines)


def describe_stored(sc: dict) -> str:
    wanted = sc.get("entry_base_url") or {}
    if not wanted:
        return ""
    rows = [f"- `{pool}` entry `{label}` stores `base_url: {stored_url(url)}`"
            for pool, by_label in wanted.items() for label, url in by_label.items()]
    return ("\nAfter `hermes auth add`, auth.json was edited so that pool entries keep an endpoint other than "
            f"config.yaml's (as when config.yaml moves a provider after its keys were added); port {STORED_PORT} "
            "is a third fake endpoint, role `stored`:\n" + "\n".join(rows) + "\n")


def write_docs(out: Path, sc: dict, version: str, meta: dict) -> None:
    gt, _ = ground_truth(out / "requests.log")
    leaks = [p for p in ["stdout.txt", "stderr.txt", "logs/agent.log", "logs/errors.log"]
             if (out / p).exists() and MARKER in (out / p).read_text(errors="replace")]
    expected = {
        "scenario": sc["name"],
        "hermes_version": version,
        "inputs": [p for p in INPUTS if (out / p).exists()],
        "must_report": pick(sc, "must_report", version, []),
        "must_not_report": pick(sc, "must_not_report", version, []),
        "ground_truth": gt,
        "notes": pick(sc, "notes", version, ""),
    }
    (out / "expected.json").write_text(json.dumps(expected, indent=2, ensure_ascii=False) + "\n")
    fb = sc.get("fallback")
    fb_text = "no fallback"
    if fb and fb["kind"] == "separate":
        fb_text = (f"a fallback `custom` provider on a second loopback port ({FALLBACK_PORT}, model "
                   f"`{fb.get('model', 'glm-fake-1')}`, key from `key_env`) in `{fb.get('config_key', 'fallback_providers')}`")
    elif fb and fb["kind"] == "pooled":
        fb_text = (f"a fallback named custom provider `{fb.get('provider', 'fakefallback')}` on a second loopback port "
                   f"({FALLBACK_PORT}, model `{fb.get('model', 'glm-fake-1')}`) with its own credential pool "
                   f"(pool key `custom:{fb.get('provider', 'fakefallback')}`, {fb.get('keys', 1)} key(s) `fb-acct-N`) "
                   f"in `{fb.get('config_key', 'fallback_providers')}`")
    elif fb:
        fb_text = (f"a fallback on the SAME backend (`{fb.get('provider', 'fakeprimary')}`, model "
                   f"`{fb.get('model', 'fake-model-2')}`, same base_url) in `{fb.get('config_key', 'fallback_providers')}`")
    turns = sc["turns"]
    n = sc["primary_keys"]
    keys_text = "1 pooled key `prim-acct-1`" if n == 1 else f"{n} pooled keys `prim-acct-1..{n}`"
    src = f"""# Real Hermes {version} output: {sc['title']}

Captured by running the real `hermes` (PyPI `hermes-agent=={version}`) for {len(turns)} `hermes chat -q`
turn{'s' if len(turns) > 1 else ''} in one fresh `HERMES_HOME`, against the fake OpenAI-compatible provider of `tools/capture/` on
loopback, inside a private network namespace ({meta['isolation']}). `config.yaml` is the configuration
used: a named custom provider (runs as provider `custom`, pool key `custom:{sc.get('primary_name', 'fakeprimary')}`),
{keys_text}, {sc.get('strategy', 'fill_first')},
`agent.api_max_retries: {sc.get('api_max_retries', 3)}`, {fb_text}.

What the fake provider answered to chat completions, per key and call:
{describe_answers(sc)}
{describe_stored(sc)}
`requests.log` is its own record of every request it received (which key, by label; what it answered):
the ground truth. Chat requests in order: {gt}.
Nothing in `logs/`, `stdout.txt`, `stderr.txt` was edited. The fake keys in the auth snapshots contain the
marker string named in `tools/capture/README.md`; no output of ours may contain it (it appears in no other file here).

What happened: {pick(sc, 'what_happened', version, '(not described yet)')}
"""
    if leaks:
        src += f"\nNote: Hermes itself wrote a fake key (with its marker) into: {', '.join(leaks)}.\n"
    (out / "source.md").write_text(src)


# --------------------------------------------------------------------------- outer


def main() -> int:
    ap = argparse.ArgumentParser(description="Capture one scenario from the real Hermes Agent.")
    ap.add_argument("--version", required=True)
    ap.add_argument("--scenario", required=True, help="scenario JSON file")
    ap.add_argument("--out", required=True, help="capture directory to (re)create")
    ap.add_argument("--venvs", default=str(DEFAULT_VENVS), help="dir holding hermes-<version>/ venvs")
    ap.add_argument("--work", help="scratch dir for HOME (default /tmp/hermes-capture/<v>/<name>)")
    ap.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--docs-only", action="store_true",
                    help="only rewrite expected.json and source.md from an existing capture")
    args = ap.parse_args()
    sc = json.loads(Path(args.scenario).read_text())
    if not args.work:
        args.work = f"/tmp/hermes-capture/{args.version}/{sc['name']}"
    if args.docs_only:
        write_docs(Path(args.out), sc, args.version, {"isolation": "only lo, no routes"})
        return 0
    if args.inside:
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        return Runner(args, sc).run()
    if os.geteuid() != 0:
        raise SystemExit("needs root (unshare -n)")
    if not (Path(args.venvs) / f"hermes-{args.version}" / "bin" / "hermes").exists():
        raise SystemExit(f"no venv for {args.version} under {args.venvs}; see README.md")
    total = 120 + sum(int(sc.get("turn_timeout", 240)) + 30 for _ in sc["turns"])
    cmd = ["timeout", "--kill-after=15", str(total), "unshare", "-n", "--", sys.executable,
           str(Path(__file__).resolve()), *sys.argv[1:], "--work", args.work, "--inside"]
    print(f"[{args.version}] {sc['name']}", flush=True)
    return subprocess.run(cmd).returncode


if __name__ == "__main__":
    sys.exit(main())
