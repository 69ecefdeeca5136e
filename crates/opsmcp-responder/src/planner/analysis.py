"""Error counts per service and the top error messages of a log dump.

Written by the opsmcp runbook planner and run by execute_analysis_script: the data file is
sys.argv[1]; the answer is one JSON object on stdout. Standard library only. The dump's exact
shape is not assumed: a JSON array, an object holding the array, or JSON lines; each entry a
dict (service/level/message under any of their usual names) or a bare line.
"""
import json
import re
import sys
from collections import Counter

LIST_KEYS = ("entries", "logs", "lines", "records", "items", "data", "events")
SERVICE_KEYS = ("service", "source", "app", "component", "logger", "host")
LEVEL_KEYS = ("level", "severity", "lvl", "log_level", "levelname")
MESSAGE_KEYS = ("message", "msg", "text", "line", "raw", "log")
ERROR_LEVELS = {"error", "err", "fatal", "critical", "crit", "emerg", "alert", "panic", "severe"}
WARN_LEVELS = {"warn", "warning"}

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d[T ][\d:.,]+(Z|[+-]\d\d:?\d\d)?")
IP = re.compile(r"\b\d{1,3}(\.\d{1,3}){3}(:\d+)?\b")
HEX = re.compile(r"\b[0-9a-f]{8,}\b", re.I)
NUMBER = re.compile(r"\b\d+(\.\d+)?\b")
LOGFMT_MSG = re.compile(r'\bmsg=("((?:[^"\\]|\\.)*)"|\S+)')
LOGFMT_LEVEL = re.compile(r"\blevel=(\w+)")
LEVEL_WORD = re.compile(r"\b(ERROR|FATAL|CRITICAL|PANIC|WARN|WARNING)\b")


def load(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    try:
        data = json.loads(text)
    except ValueError:
        data = []
        for line in text.splitlines():
            line = line.strip()
            if not line:
                continue
            try:
                data.append(json.loads(line))
            except ValueError:
                data.append(line)
    if isinstance(data, dict):
        for key in LIST_KEYS:
            if isinstance(data.get(key), list):
                return data[key]
        return [data]
    return data if isinstance(data, list) else []


def pick(entry, keys):
    for key in keys:
        value = entry.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def inner_message(text):
    """The message inside a raw line: a JSON line's msg, a logfmt msg=, else the line."""
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            inner = json.loads(stripped)
            if isinstance(inner, dict):
                return pick(inner, MESSAGE_KEYS) or stripped, pick(inner, LEVEL_KEYS)
        except ValueError:
            pass
    m = LOGFMT_MSG.search(text)
    if m:
        level = LOGFMT_LEVEL.search(text)
        message = m.group(2) if m.group(2) is not None else m.group(1)
        return message, level.group(1) if level else ""
    return text, ""


def shape(message):
    """The message with its variable parts replaced, so repeats of one error count together."""
    message = TIMESTAMP.sub("<ts>", message)
    message = IP.sub("<ip>", message)
    message = HEX.sub("<id>", message)
    message = NUMBER.sub("<n>", message)
    return " ".join(message.split())[:200]


def level_of(entry_level, inner_level, message):
    level = (entry_level or inner_level).lower()
    if level:
        return level
    m = LEVEL_WORD.search(message)
    return m.group(1).lower() if m else ""


def main():
    entries = load(sys.argv[1])
    total, errors, warnings, messages = Counter(), Counter(), Counter(), Counter()
    for entry in entries:
        if isinstance(entry, str):
            entry = {"message": entry}
        if not isinstance(entry, dict):
            continue
        service = pick(entry, SERVICE_KEYS) or "unknown"
        message, inner_level = inner_message(pick(entry, MESSAGE_KEYS))
        level = level_of(pick(entry, LEVEL_KEYS), inner_level, message)
        total[service] += 1
        if level in ERROR_LEVELS or level.startswith("err"):
            errors[service] += 1
            messages[(service, shape(message))] += 1
        elif level in WARN_LEVELS:
            warnings[service] += 1
    result = {
        "entries": sum(total.values()),
        "entries_by_service": dict(total.most_common()),
        "errors": sum(errors.values()),
        "errors_by_service": dict(errors.most_common()),
        "error_ratio_by_service": {
            s: round(errors[s] / total[s], 4) for s in total if errors[s]
        },
        "warnings_by_service": dict(warnings.most_common()),
        "top_errors": [
            {"service": s, "message": m, "count": c}
            for (s, m), c in messages.most_common(5)
        ],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
