"""Helpers shared by the bench tables (side-by-side/table.py, fleet/table.py): the bots' JSON reports and figures."""
import json
import os


def load(out, broker, name):
    """The last JSON line of $OUT/BROKER-NAME.json (a bot's --json report), or None."""
    path = os.path.join(out, f"{broker}-{name}.json")
    try:
        with open(path) as f:
            line = f.read().strip().splitlines()
            return json.loads(line[-1]) if line else None
    except (OSError, ValueError):
        return None


def get(report, *keys):
    value = report
    for key in keys:
        if value is None:
            return None
        value = value.get(key)
    return value


def fmt(value, digits=0):
    if value is None:
        return "n/a"
    return f"{value:,.{digits}f}"


def loss(report):
    exp, lost = get(report, "messages", "expected"), get(report, "messages", "lost")
    if not exp or lost is None or exp <= 0:
        return ""
    return f" ({100.0 * lost / exp:.1f}% dropped)" if lost else ""


def broken(out, broker, name, messages=True):
    """Why the run BROKER-NAME cannot give a figure, or None.

    A run is broken when its bot left no report (timed out or crashed), the broker died during it
    (BROKER-NAME.dead, written by run.sh), the bot exited with a failure (BROKER-NAME.failed), a client
    did not connect or lost its connection, the bot counted errors, or (messaging runs) no message
    arrived at all. Such a run says nothing about the broker's figures: it is refused, not printed."""
    for suffix, what in ((".dead", "the broker died"), (".failed", "the bot failed")):
        path = os.path.join(out, f"{broker}-{name}{suffix}")
        if os.path.exists(path):
            with open(path) as f:
                detail = f.read().strip().splitlines()
            return what + (f" ({detail[-1]})" if detail else "")
    report = load(out, broker, name)
    if report is None:
        return "no result"
    c = report.get("connections") or {}
    target, established = c.get("target", 0), c.get("established", 0)
    if established < target or not established:
        return f"{established} of {target} clients connected"
    if c.get("lost"):
        return f"{c['lost']} connections lost"
    errors = report.get("errors") or {}
    if errors:
        return "bot errors: " + ", ".join(f"{k} {v}" for k, v in sorted(errors.items()))
    if messages and not get(report, "messages", "received"):
        return "no messages received"
    return None


def print_errors(out, prefixes):
    """Lists the bots' error counters of every $OUT/PREFIX-NAME.json (PREFIX among prefixes), if any."""
    problems = []
    for name in sorted(os.listdir(out)):
        if not name.endswith(".json") or not name.startswith(tuple(p + "-" for p in prefixes)):
            continue  # $OUT may be shared with other runs (mlp.sh)
        report = load(out, *name[:-5].split("-", 1))
        if report and report.get("errors"):
            problems.append(f"- {name[:-5]}: errors {report['errors']}")
    if problems:
        print("\nErrors reported by the bots:")
        print("\n".join(problems))
