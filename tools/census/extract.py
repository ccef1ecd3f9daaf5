#!/usr/bin/env python3.11
"""Extract every logging call of a Hermes Agent release's source into a TSV of templates.

    python3.11 tools/census/extract.py SITE_PACKAGES VERSION > templates.tsv

Only INFO and above (what agent.log records) are kept. SITE_PACKAGES is the directory holding `run_agent.py`, `agent/`, `hermes_cli/`, `gateway/` and
`cron/` of one release (a venv's site-packages, or an unpacked wheel). Each row: version, module,
logger name (from `getLogger(__name__)`, a literal name, or `root` for `logging.info(...)`), level,
and the message template as the release writes it, with placeholders as `{}` (f-strings,
`.format`) or kept as `%s`/`%d` (%-style). Standard library only; not run in CI.
"""
import ast
import sys
from pathlib import Path

LEVELS = {"debug", "info", "warning", "warn", "error", "exception", "critical"}
ROOTS = ["run_agent.py", "agent", "hermes_cli", "gateway", "cron", "cli.py"]


def template(node):
    """The literal text of a message argument, placeholders as {}; None if not literal."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        out = []
        for v in node.values:
            if isinstance(v, ast.Constant):
                out.append(str(v.value))
            else:
                out.append("{}")
        return "".join(out)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        a, b = template(node.left), template(node.right)
        if a is None and b is None:
            return None
        return (a or "{}") + (b or "{}")
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return template(node.left)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
    ):
        return template(node.func.value)
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


def main():
    site, version = Path(sys.argv[1]), sys.argv[2]
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
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            level = node.func.attr
            if level not in LEVELS or not node.args:
                continue
            target = node.func.value
            if isinstance(target, ast.Name) and target.id in names:
                lname = names[target.id]
            elif isinstance(target, ast.Name) and target.id == "logging":
                lname = "root"
            elif isinstance(target, ast.Attribute) and target.attr in ("logger", "_logger", "log"):
                # Another module's logger (`_ra().logger`, `self.logger`): not resolved here.
                lname = "?"
            else:
                continue
            text = template(node.args[0])
            if text is None:
                continue
            text = text.replace("\t", " ").replace("\n", "\\n")
            lvl = {"warn": "WARNING", "exception": "ERROR"}.get(level, level.upper())
            if lvl == "DEBUG":
                # agent.log records INFO and above.
                continue
            rows.add((version, module, lname, lvl, text))
    for row in sorted(rows):
        print("\t".join(row))


if __name__ == "__main__":
    main()
