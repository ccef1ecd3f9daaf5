#!/usr/bin/env python3.11
"""Extract every logging call and console print of a Hermes Agent release's source.

    python3.11 tools/census/extract.py SITE_PACKAGES VERSION > fixtures/census/VERSION.tsv
    python3.11 tools/census/extract.py --request-path VENVS_DIR V1 V2 ... > fixtures/census/request-path.tsv

First form: one release, every logging call at INFO and above (what agent.log records) and every
console print, as rows `version, module, logger, level, template`. Console prints have the
logger `console` and the level `PRINT`. SITE_PACKAGES is the directory holding `run_agent.py`,
`agent/`, `hermes_cli/`, `gateway/` and `cron/` of one release.

Second form: the request-path census over several releases (VENVS_DIR/hermes-<v>/lib/python3.11/
site-packages): the templates of the request-path modules whose text is about attempts, retries,
rotation, marks, cooldowns, fallback, quota or auth, one row per (channel, logger, level,
template) with the first and last release that holds it and a stable id.

Placeholders: f-string and `.format` fields become `{}`; %-style ones are kept (`%s`, `%d`,
`%.1f`). Standard library only; not run in CI.
"""
import ast
import hashlib
import re
import sys
from pathlib import Path

LEVELS = {"debug", "info", "warning", "warn", "error", "exception", "critical"}
ROOTS = [
    "run_agent.py",
    "agent",
    "hermes_cli",
    "gateway",
    "cron",
    "cli.py",
    "tools/vision_tools.py",
    "plugins/platforms",
]
# Console output: builtin print and the agent's print helpers (`_emit_status` and
# `_emit_warning` print through `_vprint` with the log prefix, empty outside subagents;
# `_buffer_*` print the same text when the status buffer is flushed).
PRINTS = {
    "print",
    "_vprint",
    "_safe_print",
    "_emit_status",
    "_emit_warning",
    "_print_fn",
    "_buffer_vprint",
    "_buffer_status",
}

# Modules a request's own calls go through (and the side clients told apart from them).
REQUEST_PATH = {
    "run_agent",
    "agent.conversation_loop",
    "agent.agent_runtime_helpers",
    "agent.agent_init",
    "agent.turn_finalizer",
    "agent.credential_pool",
    "agent.chat_completion_helpers",
    "agent.error_classifier",
    "agent.nous_rate_guard",
    "agent.codex_runtime",
    "agent.retry_utils",
    "agent.rate_limit_tracker",
    "hermes_cli.runtime_provider",
    "gateway.run",
    "cron.scheduler",
}
# Side clients: their own retries and fallbacks, never the request's (told apart by logger).
SIDE_CLIENTS = ("agent.auxiliary_client", "agent.title_generator", "agent.context_compressor",
                "tools.vision_tools", "gateway.platforms.", "plugins.platforms.")
# What a request-path template must be about.
TOPIC = re.compile(
    r"attempt|retr(y|ies|ying)|rotat|\bmarking|cooldown|cool(ed|ing) down|fallback|quota|"
    r"\bauth|credential|\bpool\b|rate.?limit|\b(401|402|403|429)\b|exhaust|billing|credits|"
    r"restor(e|ed|ing) primary|primary (model|provider|runtime)|\bRestore |empty response|"
    r"no content|API call",
    re.I,
)
# Lines of those modules about something else than a request's LLM call: messaging platforms
# and their reconnects, kanban, gateway and cron lifecycle, the session store, todos.
NOT_REQUEST = re.compile(
    r"kanban|reconnect|platform|bot credential|bot token|adapter|drain|shutdown|silence marker|"
    r"[Ss]ession expiry|Session finalize|auto-resume|watcher|startup|obligation|cron job|"
    r"mark job|Matrix:|same credential|hygiene|Compression in-flight|Session DB|todo|"
    r"iteration (limit|exhaustion)|budget-exhausted failure",
    re.I,
)


def template(node, consts=None):
    """The literal text of a message argument, placeholders as {}; None if not literal.

    `consts`: names bound once in the module to a string literal (`_diag_msg = ("..." "...")`).
    """
    consts = consts or {}
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name) and node.id in consts:
        return consts[node.id]
    if isinstance(node, ast.JoinedStr):
        out = []
        for v in node.values:
            if isinstance(v, ast.Constant):
                out.append(str(v.value))
            else:
                out.append("{}")
        return "".join(out)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        a, b = template(node.left, consts), template(node.right, consts)
        if a is None and b is None:
            return None
        return (a or "{}") + (b or "{}")
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return template(node.left, consts)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
    ):
        t = template(node.func.value, consts)
        return None if t is None else re.sub(r"\{[^{}]*\}", "{}", t)
    return None


def logger_names(tree, module):
    """Names bound to loggers in a module: name -> logger name."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            f = node.value.func
            if isinstance(f, ast.Attribute) and f.attr == "getLogger":
                arg = node.value.args[0] if node.value.args else None
                if isinstance(arg, ast.Name) and arg.id == "__name__":
                    lname = module
                elif isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    lname = arg.value
                elif arg is None:
                    lname = "root"
                else:
                    continue
                for t in node.targets:
                    if isinstance(t, ast.Name):
                        names[t.id] = lname
    return names


def string_consts(tree):
    """Names assigned exactly one string literal in the module."""
    seen = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            t = node.targets[0]
            if isinstance(t, ast.Name):
                v = node.value
                val = v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else None
                seen.setdefault(t.id, []).append(val)
    return {k: v[0] for k, v in seen.items() if len(v) == 1 and v[0] is not None}


def clean(text):
    return text.replace("\t", " ").replace("\r", "").replace("\n", "\\n")


def release_rows(site, version):
    files = []
    for r in ROOTS:
        p = site / r
        if p.is_file():
            files.append(p)
        elif p.is_dir():
            files.extend(sorted(p.rglob("*.py")))
    rows = set()
    for path in files:
        rel = path.relative_to(site)
        module = ".".join(rel.with_suffix("").parts)
        if module.endswith(".__init__"):
            module = module[: -len(".__init__")]
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
        names = logger_names(tree, module)
        consts = string_consts(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            if isinstance(func, ast.Name) and func.id in PRINTS or (
                isinstance(func, ast.Attribute) and func.attr in PRINTS
            ):
                if isinstance(func, ast.Attribute) and func.attr == "print":
                    continue  # console.print (rich) and friends: not the agent's stdout
                if not console_module(module):
                    continue
                text = template(node.args[0], consts)
                if text is None or not text.strip():
                    continue
                rows.add((version, module, "console", "PRINT", clean(text)))
                continue
            if not isinstance(func, ast.Attribute):
                continue
            level = func.attr
            if level not in LEVELS:
                continue
            target = func.value
            if isinstance(target, ast.Name) and target.id in names:
                lname = names[target.id]
            elif isinstance(target, ast.Name) and target.id == "logging":
                lname = "root"
            elif (
                isinstance(target, ast.Attribute)
                and target.attr == "logger"
                and isinstance(target.value, ast.Call)
                and isinstance(target.value.func, ast.Name)
                and target.value.func.id == "_ra"
            ):
                lname = "run_agent"  # `_ra().logger`: run_agent's module logger
            elif isinstance(target, ast.Attribute) and target.attr in ("logger", "_logger", "log"):
                lname = "?"
            else:
                continue
            text = template(node.args[0], consts)
            if text is None:
                continue
            lvl = {"warn": "WARNING", "exception": "ERROR"}.get(level, level.upper())
            if lvl == "DEBUG":
                continue
            rows.add((version, module, lname, lvl, clean(text)))
    return rows


def console_module(module):
    """Modules whose prints are the agent's console output (not CLI wizards and commands)."""
    return module in REQUEST_PATH or module == "run_agent" or module.startswith("agent.")


def template_id(channel, logger, level, text):
    h = hashlib.sha1(f"{channel}\t{logger}\t{level}\t{text}".encode()).hexdigest()[:10]
    return h


def scope(module, text):
    """`request` (a request-path template), `side` (a side client's), `-` (neither)."""
    if not TOPIC.search(text) or NOT_REQUEST.search(text):
        return "-"
    # The provider resolver in the auxiliary client's module serves the request's client too.
    if module in REQUEST_PATH or text.startswith("resolve_provider_client: "):
        return "request"
    if module.startswith(SIDE_CLIENTS):
        return "side"
    return "-"


def request_path(venvs, versions):
    """Every template of the request-path and side-client modules, over `versions`."""
    seen = {}
    for v in versions:
        site = Path(venvs) / f"hermes-{v}" / "lib" / "python3.11" / "site-packages"
        for _, module, lname, lvl, text in release_rows(site, v):
            if module not in REQUEST_PATH and scope(module, text) == "-":
                continue
            if lname == "?":
                lname = module
            channel = "console" if lvl == "PRINT" else "log"
            key = (channel, lname, lvl, text)
            entry = seen.setdefault(key, [module, []])
            entry[1].append(v)
    print("id\tscope\tchannel\tmodule\tlogger\tlevel\tfirst\tlast\treleases\ttemplate")
    for key in sorted(seen):
        channel, lname, lvl, text = key
        module, vs = seen[key]
        row = [template_id(*key), scope(module, text), channel, module, lname, lvl]
        print("\t".join(row + [vs[0], vs[-1], ",".join(vs), text]))


def main():
    if sys.argv[1] == "--request-path":
        request_path(sys.argv[2], sys.argv[3:])
        return
    site, version = Path(sys.argv[1]), sys.argv[2]
    for row in sorted(release_rows(site, version)):
        print("\t".join(row))


if __name__ == "__main__":
    main()
