"""A CPU hog: a runaway `reports-worker` job (two busy processes) attributed to the reports
service through its `process` regex; reports answers slowly. The fix: stop the job."""
import os

NAME = "cpu_hog"
TITLE = "runaway reports-worker job burning every core"
PROMPT = "the reports service is very slow and the box feels sluggish"
EXPECT = dict(component="reports", action="stop-reports-job",
              cause=r"cpu|runaway|hog|job|saturat")


def setup(d):
    rep, web = d.port("reports"), d.port("shop-web")
    d.start_svc("reports", rep, fmt="logfmt", no_poll=True, work_ms=40)
    d.start_svc("shop-web", web, fmt="json", dep=[f"reports=http://127.0.0.1:{rep}/api/report"], interval=0.5, slow_ms=300)
    d.service("reports", process=r"svc\.py --name reports\b|reports-worker")
    d.service("shop-web", depends_on=["reports"], process=r"svc\.py --name shop-web\b")
    d.probe("reports", url=f"http://127.0.0.1:{rep}/healthz", slow_ms=300)
    d.probe("shop-web", url=f"http://127.0.0.1:{web}/healthz", slow_ms=300)
    d.logs("reports")
    d.logs("shop-web")
    os.makedirs(d.path("run"), exist_ok=True)
    stop = d.script("stop-reports-job.sh", f"""#!/bin/bash
# stop the reports batch job (reports-worker) if one is running
pidf={d.path('run', 'reports-worker.pid')}
if [ -f "$pidf" ]; then pkill -KILL -g "$(cat "$pidf")" 2>/dev/null; kill -KILL "$(cat "$pidf")" 2>/dev/null; rm -f "$pidf"; echo stopped; else echo "no job running"; fi
""")
    d.action("stop-reports-job", "reports", "stop the running reports batch job (reports-worker)", "/bin/bash", [stop])
    d.action("restart-reports", "reports", "restart the reports API process", "/bin/bash", [d.restart_script("reports")])


def inject(d):
    import shutil
    from run import APPS, PY
    worker = d.path("bin", "reports-worker")
    os.makedirs(d.path("bin"), exist_ok=True)
    shutil.copy(os.path.join(APPS, "burn.py"), worker)
    p = d.spawn("reports-worker", [PY, worker, "--job", "rebuild-search-index", "--procs", str(os.cpu_count() or 2), "--log", d.log("reports")])
    open(d.path("run", "reports-worker.pid"), "w").write(str(p.pid))


def fault_visible(d):
    return os.path.exists(d.path("run", "reports-worker.pid"))


def fixed(d):
    from run import _pids_mentioning
    return not [p for p in _pids_mentioning(d.path("bin", "reports-worker"))]
