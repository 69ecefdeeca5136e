#!/usr/bin/env python3
"""Live-fire drills for opsmcp: real services, a real fault, `opsmcp agent --brain planner`.

    python3 tests/drills/run.py [--only a,b] [--json out.json] [--must-pass a,b|all|none]
                                [--baseline 40] [--keep] [--list] [--strip-services]

Each drill (tests/drills/drills/<name>.py) starts its own small services in its own temp dir on
free ports, writes its own opsmcp.toml, runs `opsmcp up`, lets a baseline form, injects a fault,
runs the agent, checks the transcript and the store, and cleans up (process groups, mounts,
cgroups, PostgreSQL roles) even on failure or Ctrl-C. Python 3.11 standard library only.

OPSMCP_BIN names the binary (default $CARGO_TARGET_DIR/debug/opsmcp, else target/debug/opsmcp).
--strip-services is a diagnostic: it drops the [[services]] section (and each service's
`depends_on`/`process`/`unit`/`watch_files`) from the config so the rest of a drill can be
exercised against a build that does not know that section yet. It never counts as a pass.
"""
import argparse
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
APPS = os.path.join(HERE, "apps")
DRILLS_DIR = os.path.join(HERE, "drills")
REPO = os.path.dirname(os.path.dirname(HERE))
PY = sys.executable or "/usr/bin/python3"


def opsmcp_bin():
    if os.environ.get("OPSMCP_BIN"):
        return os.environ["OPSMCP_BIN"]
    tgt = os.environ.get("CARGO_TARGET_DIR")
    if tgt:
        return os.path.join(tgt, "debug", "opsmcp")
    return os.path.join(REPO, "target", "debug", "opsmcp")


def say(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, timeout=15.0):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.2)
    return False


def http_status(url, timeout=3.0, cafile=None):
    import ssl
    ctx = None
    if url.startswith("https"):
        ctx = ssl.create_default_context(cafile=cafile) if cafile else ssl.create_default_context()
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=ctx) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except Exception:  # noqa
        return None


# ------------------------------------------------------------------------------ TOML writing
def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(v)


def toml_doc(top, arrays):
    out = [f"{k} = {toml_value(v)}" for k, v in top.items() if not isinstance(v, dict)]
    for k, v in top.items():
        if isinstance(v, dict):
            out.append(f"\n[{k}]")
            out += [f"{kk} = {toml_value(vv)}" for kk, vv in v.items()]
    for name, items in arrays:
        for it in items:
            out.append(f"\n[[{name}]]")
            out += [f"{k} = {toml_value(v)}" for k, v in it.items() if v is not None]
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------------------ one drill's world
class Ctx:
    """Everything one drill owns: temp dir, ports, processes, mounts, cgroups, cleanups."""

    def __init__(self, name, opts):
        self.name = name
        self.opts = opts
        self.tmp = tempfile.mkdtemp(prefix=f"opsmcp-drill-{name}-")
        self.procs = {}
        self.cleanups = []
        self.services, self.probes, self.log_files, self.runbook = [], [], [], []
        self.ports = {}
        self.notes = []
        self.data_dir = os.path.join(self.tmp, "data")
        self.toml = os.path.join(self.tmp, "opsmcp.toml")
        self.cmds = {}
        self.up_env = {}

    # ---- paths and ports
    def path(self, *p):
        return os.path.join(self.tmp, *p)

    def port(self, key):
        if key not in self.ports:
            self.ports[key] = free_port()
        return self.ports[key]

    def log(self, svc):
        return self.path("logs", f"{svc}.log")

    # ---- processes
    def spawn(self, tag, argv, env=None, cwd=None):
        os.makedirs(self.path("out"), exist_ok=True)
        out = open(self.path("out", f"{tag}.out"), "ab")
        e = dict(os.environ)
        e.pop("OPSMCP_CONFIG", None)
        if env:
            e.update(env)
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True, env=e, cwd=cwd or self.tmp)
        self.procs[tag] = p
        return p

    def svc_argv(self, name, port, **kw):
        argv = [PY, os.path.join(APPS, "svc.py"), "--name", name, "--port", str(port), "--log", self.log(name),
                "--pidfile", self.path("run", f"{name}.pid")]
        for k, v in kw.items():
            flag = "--" + k.replace("_", "-")
            if v is True:
                argv.append(flag)
            elif isinstance(v, list):
                for x in v:
                    argv += [flag, x]
            elif v is not None and v is not False:
                argv += [flag, str(v)]
        return argv

    def start_svc(self, name, port, wait=True, **kw):
        """Start svc.py as service NAME; remember how, so restart scripts can do it again."""
        os.makedirs(self.path("run"), exist_ok=True)
        os.makedirs(self.path("logs"), exist_ok=True)
        argv = self.svc_argv(name, port, **kw)
        self.cmds[name] = (argv, port)
        self.spawn(name, argv)
        if wait and not wait_port(port):
            raise RuntimeError(f"service {name} did not start on port {port}: see {self.path('out', name + '.out')}")
        return argv

    def restart_script(self, name, pre="", fname=None):
        """A bash script that stops service NAME (by its pid file) and starts it again, detached."""
        argv, port = self.cmds[name]
        q = " ".join(_shq(a) for a in argv)
        body = f"""#!/bin/bash
# restart {name}: stop it (pid file), start it again detached, wait for its port
set -u
pidf={_shq(self.path('run', name + '.pid'))}
if [ -f "$pidf" ]; then kill -TERM "$(cat "$pidf")" 2>/dev/null; sleep 0.5; kill -KILL "$(cat "$pidf")" 2>/dev/null; fi
{pre}
setsid {q} >> {_shq(self.path('out', name + '.out'))} 2>&1 < /dev/null &
for i in $(seq 1 50); do
  if (echo > /dev/tcp/127.0.0.1/{port}) 2>/dev/null; then echo "{name} restarted"; exit 0; fi
  sleep 0.2
done
echo "{name} did not come back on port {port}" >&2
exit 1
"""
        return self.script(fname or f"restart-{name}.sh", body)

    def script(self, fname, body):
        p = self.path("bin", fname)
        os.makedirs(self.path("bin"), exist_ok=True)
        with open(p, "w") as f:
            f.write(body)
        os.chmod(p, 0o755)
        return p

    def kill_svc(self, name, sig=signal.SIGKILL):
        pid = int(open(self.path("run", f"{name}.pid")).read())
        os.kill(pid, sig)
        return pid

    def on_cleanup(self, fn, what):
        self.cleanups.append((fn, what))

    # ---- config
    def service(self, name, **kw):
        self.services.append(dict(name=name, **kw))

    def probe(self, service, url=None, address=None, **kw):
        if url:
            self.probes.append(dict(service=service, kind="http", url=url, **kw))
        else:
            self.probes.append(dict(service=service, kind="tcp", address=address, **kw))

    def logs(self, service, *globs):
        self.log_files.append(dict(service=service, globs=list(globs) or [self.log(service)]))

    def action(self, name, service, description, program, args=(), risk="low", timeout_ms=30000, **kw):
        self.runbook.append(dict(name=name, service=service, description=description, program=program,
                                 args=list(args), timeout_ms=timeout_ms, risk=risk, **kw))

    def write_config(self):
        self.mon, self.wf, self.la = free_port(), free_port(), free_port()
        top = dict(monitoring_port=self.mon, workflow_port=self.wf, log_analytics_port=self.la,
                   data_dir=self.data_dir, sample_interval_ms=1000, verify_timeout_s=30)
        services = self.services
        if self.opts.strip_services:
            services = []
        arrays = [("services", services), ("probes", self.probes), ("log_files", self.log_files), ("runbook", self.runbook)]
        with open(self.toml, "w") as f:
            f.write(f"# opsmcp settings for the drill {self.name} (written by tests/drills/run.py)\n")
            f.write(toml_doc(top, arrays))

    # ---- opsmcp
    def opsmcp(self, *args, timeout=60, check=False):
        env = dict(os.environ, OPSMCP_CONFIG=self.toml, NO_COLOR="1")
        r = subprocess.run([opsmcp_bin(), *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=self.tmp)
        if check and r.returncode != 0:
            raise RuntimeError(f"opsmcp {' '.join(args)} exited {r.returncode}: {r.stderr.strip()[:400]}")
        return r

    def start_opsmcp(self):
        p = self.spawn("opsmcp-up", [opsmcp_bin(), "up", "--config", self.toml], env=dict(self.up_env, NO_COLOR="1"))
        end = time.time() + 30
        while time.time() < end:
            if p.poll() is not None:
                err = open(self.path("out", "opsmcp-up.out"), errors="replace").read().strip()
                raise DrillError("opsmcp up refused to start: " + _first_error(err), stage="up")
            if all(http_status(f"http://127.0.0.1:{port}/health", 1) == 200 for port in (self.mon, self.wf, self.la)):
                return
            time.sleep(0.3)
        raise DrillError("opsmcp up did not become healthy in 30 s", stage="up")

    def mcp_call(self, tool, args=None, port=None):
        """One tools/call on the monitoring server, as a plain-JSON client (for baseline checks)."""
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                           "params": {"name": tool, "arguments": args or {}}}).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{port or self.mon}/mcp", data=body,
                                     headers={"Content-Type": "application/json", "Accept": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            res = json.loads(r.read())["result"]
        if res.get("structuredContent"):
            return res["structuredContent"]
        return json.loads(res["content"][0]["text"])

    def sick_now(self):
        """{service: message} of the configured services verify_health calls unhealthy or degraded."""
        h = self.mcp_call("verify_health")
        out = {}
        for s in h.get("services", []):
            if s.get("service") != "host" and s.get("status") != "healthy":
                out[s["service"]] = "; ".join(c.get("message", "") for c in s.get("checks", []) if c.get("status") != "healthy")[:200]
        return out

    # ---- cleanup: everything we started, nothing else
    def cleanup(self):
        for fn, what in reversed(self.cleanups):
            try:
                fn()
            except Exception as e:  # noqa
                say(f"  cleanup {what}: {e}")
        for tag, p in self.procs.items():
            _killpg(p.pid)
        # processes started later by our restart scripts (setsid): their command lines name our temp dir
        for _ in range(3):
            left = [pid for pid in _pids_mentioning(self.tmp) if pid != os.getpid()]
            if not left:
                break
            for pid in left:
                try:
                    os.killpg(os.getpgid(pid), signal.SIGKILL)
                except OSError:
                    pass
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.3)
        for p in self.procs.values():
            try:
                p.wait(timeout=5)
            except Exception:  # noqa
                pass
        for fn, what in getattr(self, "late_cleanups", []):
            try:
                fn()
            except Exception as e:  # noqa
                say(f"  cleanup {what}: {e}")
        if not self.opts.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def on_late_cleanup(self, fn, what):
        """Runs after every process is gone (umount, rmdir cgroup)."""
        self.__dict__.setdefault("late_cleanups", []).insert(0, (fn, what))


class DrillError(Exception):
    def __init__(self, msg, stage="drill"):
        super().__init__(msg)
        self.stage = stage


def _shq(s):
    return "'" + str(s).replace("'", "'\\''") + "'"


def _first_error(text):
    """The gist of a startup error: its first line and the offending field, not the whole list."""
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    for i, l in enumerate(lines):
        if "error" in l.lower():
            gist = [l.split(" (see ")[0]]
            for x in lines[i + 1:i + 8]:
                if x.startswith("unknown field") or x.startswith("missing field") or "expected" in x:
                    gist.append(x.split(", expected")[0])
                    break
            return ": ".join(gist)[:300]
    return " | ".join(lines[-4:])[:300]


def _killpg(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


def _pids_mentioning(s):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            cmd = open(f"/proc/{d}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if s in cmd:
            out.append(int(d))
    return out


# ------------------------------------------------------------------------------ the transcript
def load_events(path):
    ev = []
    for line in open(path, errors="replace"):
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            ev.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    return ev


def tool_calls(events):
    """[(short tool name, input, result dict or None, result event)] in order."""
    results = {e.get("id"): e for e in events if e.get("type") == "tool_result"}
    out = []
    for e in events:
        if e.get("type") != "tool_call":
            continue
        short = e.get("name", "").split("__")[-1]
        r = results.get(e.get("id"))
        parsed = None
        if r:
            text = None
            if r.get("full_result") and os.path.exists(r["full_result"]):
                text = open(r["full_result"], errors="replace").read()
            elif isinstance(r.get("shown"), str):
                text = r["shown"]
            if text:
                try:
                    parsed = json.loads(text)
                except json.JSONDecodeError:
                    i = text.find("{")
                    try:
                        parsed = json.loads(text[i:]) if i >= 0 else None
                    except json.JSONDecodeError:
                        parsed = {"_text": text}
        out.append((short, e.get("input") or {}, parsed, r))
    return out


def _s(x):
    return json.dumps(x) if not isinstance(x, str) else x


def diagnoses(stated):
    """(kind, component) pairs from the agent's root-cause statements; component None if unparsed.
    Handles "Root cause: KIND (component C, confidence …)" and "KIND in C: …" / "KIND on C …"."""
    out = []
    for t in stated:
        m = re.search(r"root cause:\s*(.+?)\s*\(component\s+([^\s,)]+)", t, re.I)
        if m:
            out.append((m.group(1), m.group(2)))
            continue
        m = re.match(r"\s*(?:root cause:\s*)?([^:]+?)\s+(?:in|on|of|at)\s+([\w.-]+)", t, re.I)
        if m:
            out.append((m.group(1), m.group(2)))
            continue
        out.append((t, None))
    return out


def grade(ctx, drill, events, agent_rc):
    """Returns a row: found/acted/recovered/one_incident/postmortem + why."""
    exp = drill.EXPECT
    calls = tool_calls(events)
    fin = next((e for e in reversed(events) if e.get("type") == "finished"), {})
    final = fin.get("final_text") or ""
    row = dict(found=False, acted=False, recovered=False, one_incident=False, postmortem=False, why=[])
    # --- what the agent concluded
    stated = []
    for short, inp, res, _ in calls:
        if short == "document_resolution" and inp.get("root_cause"):
            stated.append(_s(inp["root_cause"]))
    for line in final.splitlines():
        if line.lower().startswith("root cause"):
            stated.append(line)
    rca = [res for short, _, res, _ in calls if short == "root_cause_analysis" and isinstance(res, dict)]
    concl = rca[-1].get("conclusion", {}) if rca else {}
    row["concluded"] = (" | ".join(dict.fromkeys(stated)) or final[:200]).replace("\n", " ")[:300]
    row["rca"] = {k: concl.get(k) for k in ("root_cause", "component", "confidence") if k in concl}
    remediations = [(inp, res, r) for short, inp, res, r in calls if short == "execute_remediation"]
    incidents = ctx.opsmcp("incidents", "list", "--json", "--limit", "50")
    n_inc = None
    try:
        j = json.loads(incidents.stdout)
        lst = j if isinstance(j, list) else j.get("incidents", [])
        n_inc = len(lst)
    except Exception:  # noqa
        row["why"].append(f"`opsmcp incidents list --json` unreadable (exit {incidents.returncode}): {incidents.stderr.strip()[:150]}")
    row["incidents"] = n_inc
    row["one_incident"] = n_inc == 1
    if n_inc is not None and n_inc != 1:
        row["why"].append(f"{n_inc} incidents opened, expected exactly 1")

    if not exp.get("known", True):
        text = " ".join(stated) + " " + final
        said_unknown = bool(re.search(r"\bunknown\b|not (yet )?known|not established|cannot determine|undetermined", text, re.I))
        checked = bool(re.search(r"\bchecked\b[:\s]+\S+", text + " " + " ".join(_s(i) for s, i, _, _ in calls if s in ("update_incident", "notify_team")), re.I))
        row["found"] = said_unknown and checked
        row["acted"] = len(remediations) == 0  # for the unknown drill "acted" means: correctly ran nothing
        row["recovered"] = None
        row["postmortem"] = None
        if not said_unknown:
            row["why"].append(f"did not say the cause is unknown; concluded: {row['concluded'][:160]}")
        elif not checked:
            row["why"].append("said unknown but did not name what it checked")
        if remediations:
            row["why"].append("ran an action: " + ", ".join(_s(i.get("action")) + "@" + _s(i.get("target", "")) for i, _, _ in remediations))
        row["passed"] = row["found"] and row["acted"] and row["one_incident"] and agent_rc == 0
        if agent_rc != 0:
            row["why"].append(f"agent exited {agent_rc}")
        return row

    # --- found: the stated root cause names the component and a cause of the expected kind
    comp = exp["component"]
    cause_re = re.compile(exp["cause"], re.I)
    comp_re = re.compile(r"(?<![\w-])" + re.escape(comp) + r"(?![\w-])", re.I)
    found = False
    for kind, where in diagnoses(stated):
        if re.search(r"\bunknown\b|not (yet )?known|not established", kind, re.I):
            continue
        if where is not None:
            hit = where.strip(".,:;").lower() == comp.lower() and cause_re.search(kind)
        else:  # unparsed statement: the component named before any explanation, with the kind
            head = re.split(r"[:;]", kind, 1)[0]
            hit = comp_re.search(head) and cause_re.search(head)
        found = found or bool(hit)
    if not stated and concl.get("root_cause") and concl.get("root_cause") != "unknown":
        found = bool(cause_re.search(str(concl.get("root_cause"))) and str(concl.get("component", "")).lower() == comp.lower())
    row["found"] = found
    if not found:
        row["why"].append(f"diagnosis wrong: stated {row['concluded'][:180]!r}; expected {comp} + /{exp['cause']}/")
    # --- acted: the expected runbook action ran
    want = exp["action"]
    ran = []
    for inp, res, r in remediations:
        act = _s(inp.get("action", ""))
        name, _, tgt = act.partition("@")
        tgt = tgt or _s(inp.get("target", ""))
        outcome = (res or {}).get("outcome")
        rem = (res or {}).get("remediation") or {}
        status = rem.get("status") if isinstance(rem, dict) else (rem if isinstance(rem, str) else None)
        ran.append(f"{name}@{tgt}:{outcome}/{status}")
        if name == want and (not tgt or tgt == comp or tgt == exp.get("action_target", comp)) and outcome == "ran" and not (r or {}).get("is_error"):
            row["acted"] = True
            row["remediation_status"] = status
            # What the tool saw when it judged the action: the checks still failing after it.
            if isinstance(rem, dict):
                row["remediation_verification"] = (rem.get("result") or {}).get("verification")
                row["remediation_after"] = {svc: h.get("failing") for svc, h in (rem.get("after") or {}).items()
                                            if isinstance(h, dict) and h.get("failing")}
    row["actions"] = ran
    if not row["acted"]:
        row["why"].append(f"expected action {want} not run (ran: {', '.join(ran) or 'nothing'})")
    # --- recovered: the tool verified it, and it really is fixed
    tool_ok = row.get("remediation_status") == "succeeded"
    if not tool_ok and row["acted"]:
        # a later verify_health that found every service healthy
        after = False
        for short, inp, res, _ in calls:
            if short == "execute_remediation":
                after = True
            elif after and short == "verify_health" and isinstance(res, dict) and res.get("status") == "healthy":
                tool_ok = True
    really = None
    try:
        really = drill.fixed(ctx)
    except Exception as e:  # noqa
        row["why"].append(f"fixed() check failed: {e}")
    row["really_fixed"] = really
    row["recovered"] = bool(tool_ok and really)
    if row["acted"] and not tool_ok:
        row["why"].append(f"recovery not verified by the tool (remediation {row.get('remediation_status')}; "
                          f"verification {row.get('remediation_verification')}; still failing {row.get('remediation_after')})")
    if not really:
        row["why"].append("fault still present after the run (independent check)")
    # --- postmortem
    docs = [(inp, res, r) for short, inp, res, r in calls if short == "document_resolution"]
    pm = False
    for inp, res, r in docs:
        if r and not r.get("is_error"):
            pm = True
    pm_files = []
    for root, _, files in os.walk(os.path.join(ctx.data_dir, "postmortems")):
        pm_files += [os.path.join(root, f) for f in files if f.endswith(".md")]
    row["postmortem"] = pm and bool(pm_files)
    if not row["postmortem"]:
        row["why"].append("no postmortem written" if not docs else f"document_resolution ran but no postmortem file ({len(pm_files)} .md)")
    if agent_rc != 0:
        row["why"].append(f"agent exited {agent_rc}")
    row["passed"] = all(row[k] for k in ("found", "acted", "recovered", "one_incident", "postmortem")) and agent_rc == 0
    return row


# ------------------------------------------------------------------------------ running a drill
def load_drills():
    out = {}
    for f in sorted(os.listdir(DRILLS_DIR)):
        if f.endswith(".py") and not f.startswith("_"):
            spec = importlib.util.spec_from_file_location(f"drill_{f[:-3]}", os.path.join(DRILLS_DIR, f))
            m = importlib.util.module_from_spec(spec)
            sys.path.insert(0, HERE)
            spec.loader.exec_module(m)
            out[m.NAME] = m
    order = ["dependency_killed", "dependency_slowed", "cpu_hog", "memory_hog", "disk_full", "postgres_connections",
             "tls_expired", "config_changed", "crash_loop", "unknown_clock_skew"]
    return {k: out[k] for k in sorted(out, key=lambda k: order.index(k) if k in order else 99)}


def run_drill(drill, opts):
    ctx = Ctx(drill.NAME, opts)
    t0 = time.time()
    row = dict(drill=drill.NAME, found=False, acted=False, recovered=False, one_incident=False, postmortem=False,
               passed=False, why=[], stage="setup")
    say(f"== {drill.NAME}: {drill.TITLE}  (dir {ctx.tmp})")
    try:
        drill.setup(ctx)
        ctx.write_config()
        row["stage"] = "up"
        ctx.start_opsmcp()
        baseline = getattr(drill, "BASELINE", opts.baseline)
        say(f"  opsmcp up (monitoring :{ctx.mon}); baseline {baseline} s")
        time.sleep(baseline)
        try:
            tb = time.time()
            sick = ctx.sick_now()
            row["baseline_check_s"] = round(time.time() - tb, 1)
            if row["baseline_check_s"] > 10:
                row["why"].append(f"baseline verify_health took {row['baseline_check_s']} s")
            row["baseline_sick"] = sick
            if sick:
                row["why"].append("baseline not clean (before the fault): " + "; ".join(f"{k}: {v}" for k, v in sick.items()))
        except Exception as e:  # noqa
            row["why"].append(f"harness: baseline verify_health failed: {e}")
        row["stage"] = "inject"
        say("  injecting the fault")
        drill.inject(ctx)
        settle = getattr(drill, "SETTLE", 15)
        time.sleep(settle)
        if hasattr(drill, "fault_visible"):
            vis = drill.fault_visible(ctx)
            row["fault_visible"] = vis
            if not vis:
                row["why"].append("harness: the fault did not show (fault_visible false) — drill mechanics problem")
        if opts.mechanics:
            mechanics(ctx, drill, row, t0)
        else:
            row["stage"] = "agent"
            say(f"  agent: {drill.PROMPT!r}")
            out = ctx.path("agent.jsonl")
            ta = time.time()
            env = dict(os.environ, OPSMCP_CONFIG=ctx.toml, NO_COLOR="1")
            try:
                with open(out, "w") as fo, open(ctx.path("agent.err"), "w") as fe:
                    r = subprocess.run([opsmcp_bin(), "agent", drill.PROMPT, "--brain", "planner", "--json",
                                        "--call-timeout-s", "120"],
                                       stdout=fo, stderr=fe, env=env, cwd=ctx.tmp, timeout=opts.agent_timeout,
                                       start_new_session=True)
                rc = r.returncode
            except subprocess.TimeoutExpired:
                rc = "timeout"
                row["why"].append(f"agent did not finish in {opts.agent_timeout} s")
            row["agent_s"] = round(time.time() - ta, 1)
            events = load_events(out)
            row["transcript"] = next((e.get("transcript") for e in events if e.get("type") == "started"), None)
            time.sleep(getattr(drill, "POST_WAIT", 0))
            g = grade(ctx, drill, events, rc if rc != "timeout" else 124)
            g["why"] = row["why"] + g["why"]
            row.update(g)
        row["stage"] = "done"
    except DrillError as e:
        row["why"].append(str(e))
        row["stage"] = e.stage
    except KeyboardInterrupt:
        row["why"].append("interrupted")
        ctx.cleanup()
        raise
    except Exception as e:  # noqa
        row["why"].append(f"harness error in {row['stage']}: {type(e).__name__}: {e}")
        traceback.print_exc()
    finally:
        if row.get("stage") != "done" or not row.get("passed"):
            row["kept_logs"] = ctx.tmp if opts.keep else None
        try:
            ctx.cleanup()
        except Exception as e:  # noqa
            row["why"].append(f"cleanup error: {e}")
    row["seconds"] = round(time.time() - t0, 1)
    row["notes"] = ctx.notes
    if opts.strip_services and not opts.mechanics:
        row["why"].append("DIAGNOSTIC RUN (--strip-services): not a pass")
        row["passed"] = False
    say(f"  -> {'PASS' if row['passed'] else 'FAIL'} in {row['seconds']} s; " + "; ".join(row["why"])[:400])
    return row


def mechanics(ctx, drill, row, t0):
    """--mechanics: no agent. Run the drill's expected runbook action by hand (program + args as
    configured) and check the fault is really gone; then the caller's finally cleans up."""
    exp = drill.EXPECT
    row.update(found=None, acted=None, recovered=None, one_incident=None, postmortem=None)
    if not exp.get("known", True):
        row["mechanics"] = "fault visible" if row.get("fault_visible", True) else "fault NOT visible"
        row["passed"] = row.get("fault_visible", True) and not row.get("baseline_sick")
        row["stage"] = "done"
        return row
    act = next(a for a in ctx.runbook if a["name"] == exp["action"])
    r = subprocess.run([act["program"], *act["args"]], capture_output=True, text=True, timeout=60)
    time.sleep(3)
    ok = drill.fixed(ctx)
    row["recovered"] = ok
    row["mechanics"] = f"action {act['name']} exit {r.returncode}; fixed={ok}; {r.stdout.strip()[-120:]} {r.stderr.strip()[-200:]}"
    if not ok:
        row["why"].append("runbook action did not fix the fault: " + row["mechanics"])
    row["passed"] = ok and row.get("fault_visible", True) and not row.get("baseline_sick")
    row["stage"] = "done"
    return row


def mark(v):
    return "n/a" if v is None else ("yes" if v else "no")


def table(rows):
    hdr = ["drill", "found", "acted", "recovered", "one incident", "postmortem", "seconds", "why failed"]
    lines = ["| " + " | ".join(hdr) + " |", "|" + "---|" * len(hdr)]
    for r in rows:
        why = "; ".join(r["why"]).replace("|", "\\|").replace("\n", " ") if not r.get("passed") else ""
        lines.append("| " + " | ".join([r["drill"], mark(r["found"]), mark(r["acted"]), mark(r["recovered"]),
                                        mark(r["one_incident"]), mark(r["postmortem"]), str(r["seconds"]), why[:500]]) + " |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", help="comma-separated drill names")
    ap.add_argument("--json", help="write the rows as JSON here")
    ap.add_argument("--must-pass", default="all", help="drills that must pass (comma-separated, 'all' or 'none')")
    ap.add_argument("--baseline", type=int, default=40, help="seconds of baseline before the fault (default 40)")
    ap.add_argument("--agent-timeout", type=int, default=90)
    ap.add_argument("--keep", action="store_true", help="keep each drill's temp dir (logs, config, transcript)")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--strip-services", action="store_true", help="diagnostic: drop [[services]] from the config")
    ap.add_argument("--mechanics", action="store_true",
                    help="diagnostic: no agent; inject, run the expected runbook action by hand, check the fault is gone")
    opts = ap.parse_args()
    drills = load_drills()
    if opts.list:
        for n, m in drills.items():
            print(f"{n:22} {m.TITLE}")
        return 0
    names = list(drills) if not opts.only else [x.strip() for x in opts.only.split(",") if x.strip()]
    for n in names:
        if n not in drills:
            ap.error(f"unknown drill {n!r}; known: {', '.join(drills)}")
    if os.geteuid() != 0:
        say("warning: not root; the disk and memory drills need root (mounts, cgroups)")
    b = opsmcp_bin()
    if not os.access(b, os.X_OK):
        ap.error(f"no opsmcp binary at {b}: build it (cargo build -p opsmcp) or set OPSMCP_BIN")
    say(f"opsmcp: {b}")
    rows = []

    def on_term(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    t0 = time.time()
    current = None
    try:
        for n in names:
            current = n
            rows.append(run_drill(drills[n], opts))
    except KeyboardInterrupt:
        say("interrupted: cleaned up the drill in progress")
        rows.append(dict(drill=current, found=False, acted=False, recovered=False, one_incident=False,
                         postmortem=False, passed=False, why=["interrupted"], seconds=0))
    total = round(time.time() - t0, 1)
    print()
    print(table(rows))
    print(f"\n{sum(r['passed'] for r in rows)}/{len(rows)} passed in {total} s")
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump({"rows": rows, "total_s": total, "binary": b}, f, indent=2, default=str)
    must = names if opts.must_pass == "all" else ([] if opts.must_pass == "none" else opts.must_pass.split(","))
    failed = [r["drill"] for r in rows if r["drill"] in must and not r["passed"]]
    missing = [n for n in must if n in names and n not in [r["drill"] for r in rows]]
    if failed or missing:
        print("must-pass drills failed: " + ", ".join(failed + missing))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
