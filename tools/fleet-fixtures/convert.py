#!/usr/bin/env python3
"""Turn a `journalctl -o json` rendering into the fleet exports the analyzer reads.

    tools/fleet-fixtures/convert.py fixtures/captured/two-host/sequential/render/json.txt \
        fixtures/fleet/sequential

writes, from the same journal entries, in the same order:

  loki.jsonl          `logcli query --output=jsonl`: `line` is MESSAGE, labels host/pid/unit
  loki-journal.jsonl  the same, `line` is the whole journal entry (promtail journal target with
                      `json: true`), labels host/unit
  ecs.ndjson          one Elasticsearch hit per line (elasticdump), `_source` as Filebeat's
                      journald input writes it
  ecs-search.json     one pretty-printed `_search` response holding every hit
  otlp.jsonl          the Collector's file exporter: one ExportLogsServiceRequest per line, a
                      batch of up to BATCH records, one resource per host in each batch
  otlp-pretty.json    one pretty-printed OTLP/JSON document holding every record

Python 3 standard library only. Output is deterministic (no clock, no randomness).
"""

import hashlib
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

BATCH = 50
UNIT_DEFAULT = "hermes-gateway.service"


def rfc3339_nano(micros: int) -> str:
    """Go's time.RFC3339Nano in UTC (trailing zeros of the fraction dropped), as logcli prints."""
    secs, us = divmod(micros, 1_000_000)
    base = datetime.fromtimestamp(secs, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    frac = f"{us * 1000:09d}".rstrip("0")
    return f"{base}.{frac}Z" if frac else f"{base}Z"


def rfc3339_millis(micros: int) -> str:
    """Beats' `@timestamp`: UTC, milliseconds."""
    secs, us = divmod(micros, 1_000_000)
    base = datetime.fromtimestamp(secs, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{us // 1000:03d}Z"


def dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def read_entries(path: Path):
    entries = []
    for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        entry = json.loads(line)
        entries.append((line, entry))
    return entries


def loki(entries, journal_line: bool):
    out = []
    for raw, e in entries:
        labels = {"host": e["_HOSTNAME"], "unit": e.get("_SYSTEMD_UNIT", UNIT_DEFAULT)}
        if not journal_line:
            labels["pid"] = e["_PID"]
        # logcli marshals a Go map: keys sorted.
        doc = {
            "labels": dict(sorted(labels.items())),
            "line": raw if journal_line else e["MESSAGE"],
            "timestamp": rfc3339_nano(int(e["__REALTIME_TIMESTAMP"])),
        }
        out.append(dumps(doc))
    return "\n".join(out) + "\n"


def ecs_source(e):
    """A `_source` as a Filebeat on each host writes it from its journald input (the journal
    fields under their translated names; `host.name` is the Filebeat host)."""
    micros = int(e["__REALTIME_TIMESTAMP"])
    return {
        "@timestamp": rfc3339_millis(micros),
        "message": e["MESSAGE"],
        "host": {"hostname": e["_HOSTNAME"], "name": e["_HOSTNAME"], "boot_id": e["_BOOT_ID"]},
        "process": {
            "pid": int(e["_PID"]),
            "name": e["_COMM"],
            "executable": e["_EXE"],
        },
        "syslog": {
            "identifier": e["SYSLOG_IDENTIFIER"],
            "facility": int(e["SYSLOG_FACILITY"]),
            "priority": int(e["PRIORITY"]),
        },
        "systemd": {"unit": e["_SYSTEMD_UNIT"], "transport": e["_TRANSPORT"]},
        "log": {"syslog": {"priority": int(e["PRIORITY"])}},
        "input": {"type": "journald"},
        "event": {"kind": "event", "dataset": "journald.journald"},
        "ecs": {"version": "8.0.0"},
    }


def ecs_hit(e):
    micros = int(e["__REALTIME_TIMESTAMP"])
    day = datetime.fromtimestamp(micros // 1_000_000, tz=timezone.utc).strftime("%Y.%m.%d")
    doc_id = hashlib.sha1(e["__CURSOR"].encode()).hexdigest()[:20]
    return {
        "_index": f".ds-filebeat-8.17.0-{day}-000001",
        "_id": doc_id,
        "_score": None,
        "_source": ecs_source(e),
        "sort": [micros // 1000],
    }


def ecs_ndjson(entries):
    return "\n".join(dumps(ecs_hit(e)) for _, e in entries) + "\n"


def ecs_search(entries):
    hits = [ecs_hit(e) for _, e in entries]
    doc = {
        "took": 12,
        "timed_out": False,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {
            "total": {"value": len(hits), "relation": "eq"},
            "max_score": None,
            "hits": hits,
        },
    }
    # Elasticsearch `?pretty` prints `"key" : value` with two-space indents.
    text = json.dumps(doc, ensure_ascii=False, indent=2, separators=(",", " : "))
    return text + "\n"


def kv(key, value):
    return {"key": key, "value": value}


def otlp_record(e):
    nanos = str(int(e["__REALTIME_TIMESTAMP"]) * 1000)
    priority = int(e["PRIORITY"])
    severity = {3: (17, "ERROR"), 4: (13, "WARN"), 6: (9, "INFO"), 7: (5, "DEBUG")}.get(
        priority, (9, "INFO")
    )
    return {
        "timeUnixNano": nanos,
        "observedTimeUnixNano": nanos,
        "severityNumber": severity[0],
        "severityText": severity[1],
        "body": {"stringValue": e["MESSAGE"]},
        "attributes": [
            kv("process.pid", {"intValue": e["_PID"]}),
            kv("syslog.identifier", {"stringValue": e["SYSLOG_IDENTIFIER"]}),
            kv("systemd.unit", {"stringValue": e["_SYSTEMD_UNIT"]}),
        ],
        "traceId": "",
        "spanId": "",
    }


def otlp_request(batch):
    """One ExportLogsServiceRequest: one resource per host, in order of first appearance."""
    hosts = []
    by_host = {}
    for e in batch:
        h = e["_HOSTNAME"]
        if h not in by_host:
            hosts.append(h)
            by_host[h] = []
        by_host[h].append(otlp_record(e))
    return {
        "resourceLogs": [
            {
                "resource": {
                    "attributes": [
                        kv("host.name", {"stringValue": h}),
                        kv("service.name", {"stringValue": "hermes-gateway"}),
                    ]
                },
                "scopeLogs": [
                    {
                        "scope": {"name": "github.com/open-telemetry/opentelemetry-collector-contrib/receiver/journaldreceiver"},
                        "logRecords": by_host[h],
                    }
                ],
                "schemaUrl": "https://opentelemetry.io/schemas/1.6.1",
            }
            for h in hosts
        ]
    }


def otlp_lines(entries):
    es = [e for _, e in entries]
    lines = [dumps(otlp_request(es[i : i + BATCH])) for i in range(0, len(es), BATCH)]
    return "\n".join(lines) + "\n"


def otlp_pretty(entries):
    doc = otlp_request([e for _, e in entries])
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    src, out = Path(argv[1]), Path(argv[2])
    entries = read_entries(src)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "loki.jsonl": loki(entries, journal_line=False),
        "loki-journal.jsonl": loki(entries, journal_line=True),
        "ecs.ndjson": ecs_ndjson(entries),
        "ecs-search.json": ecs_search(entries),
        "otlp.jsonl": otlp_lines(entries),
        "otlp-pretty.json": otlp_pretty(entries),
    }
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
        print(f"{out / name}: {text.count(chr(10))} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
