"""A crash loop under a supervisor script: inventory runs from releases/current (a symlink) under
supervisor.sh, which restarts it whenever it exits. Release v2 is deployed (symlink switched,
process restarted, and the deploy announced on the workflow server's POST /webhooks/deploy);
v2 dies at start with a KeyError traceback, over and over. The fix: roll back to v1."""
import json
import os
import subprocess
import urllib.request

NAME = "crash_loop"
TITLE = "inventory v2 crashes at start, restarted every second by its supervisor"
PROMPT = "inventory is down and keeps restarting"
EXPECT = dict(component="inventory", action="rollback-inventory",
              cause=r"crash|restart|loop|exit|deploy|release|version|start.?up")

V1 = """import os, sys
sys.path.insert(0, {apps!r})
sys.argv[0] = "inventory"
import svc
svc.main()
"""
V2 = """import os, sys
sys.path.insert(0, {apps!r})
import svc
# v2: reads the new warehouse endpoint from the environment at start
WAREHOUSE_URL = os.environ["INVENTORY_WAREHOUSE_URL"]
svc.main()
"""


def setup(d):
    from run import APPS, PY, wait_port
    rel = d.path("releases")
    for v, code in (("v1", V1), ("v2", V2)):
        os.makedirs(os.path.join(rel, v))
        open(os.path.join(rel, v, "app.py"), "w").write(code.format(apps=APPS))
    os.symlink(os.path.join(rel, "v1"), os.path.join(rel, "current"))
    inv, web = d.port("inventory"), d.port("shop-web")
    os.makedirs(d.path("run"), exist_ok=True)
    os.makedirs(d.path("logs"), exist_ok=True)
    argv = [PY, os.path.join(rel, "current", "app.py"), "--name", "inventory", "--port", str(inv), "--log", d.log("inventory"),
            "--pidfile", d.path("run", "inventory.pid"), "--fmt", "text", "--no-poll"]
    # the supervisor appends the app's stderr (tracebacks) to the service log too
    wrapper = d.script("inventory-run.sh", f"""#!/bin/bash
exec {' '.join(argv)} 2>> {d.log('inventory')}
""")
    d.spawn("inventory-supervisor", ["/bin/bash", os.path.join(APPS, "supervisor.sh"), "inventory", d.log("inventory"), "--", "/bin/bash", wrapper])
    wait_port(inv)
    d.start_svc("shop-web", web, fmt="json", dep=[f"inventory=http://127.0.0.1:{inv}/api/stock"], interval=0.5)
    d.service("inventory", process=r"releases/current/app\.py|inventory-run\.sh")
    d.service("shop-web", depends_on=["inventory"], process=r"svc\.py --name shop-web\b")
    d.probe("inventory", url=f"http://127.0.0.1:{inv}/healthz")
    d.probe("shop-web", url=f"http://127.0.0.1:{web}/healthz")
    d.logs("inventory")
    d.logs("shop-web")
    rb = d.script("rollback-inventory.sh", f"""#!/bin/bash
# roll inventory back to the previous release (v1); the supervisor starts it on its next restart
ln -sfn {rel}/v1 {rel}/current.new && mv -T {rel}/current.new {rel}/current
pidf={d.path('run', 'inventory.pid')}
[ -f "$pidf" ] && kill -TERM "$(cat "$pidf")" 2>/dev/null
for i in $(seq 1 50); do (echo > /dev/tcp/127.0.0.1/{inv}) 2>/dev/null && {{ echo "inventory rolled back to v1"; exit 0; }}; sleep 0.2; done
echo "inventory did not come back" >&2; exit 1
""")
    d.action("rollback-inventory", "inventory", "roll inventory back to the previous release", "/bin/bash", [rb], risk="medium")
    d.action("restart-inventory", "inventory", "restart inventory (kill it; its supervisor starts it again)", "/bin/bash",
             ["-c", f"kill -TERM $(cat {d.path('run', 'inventory.pid')}) 2>/dev/null; sleep 1; echo restarted"])


def inject(d):
    rel = d.path("releases")
    subprocess.run(f"ln -sfn {rel}/v2 {rel}/current.new && mv -T {rel}/current.new {rel}/current", shell=True, check=True)
    body = json.dumps({"service": "inventory", "version": "v2", "previous_version": "v1", "environment": "production",
                       "status": "succeeded", "commit": "3f9c2e1", "author": "ci"}).encode()
    try:
        req = urllib.request.Request(f"http://127.0.0.1:{d.wf}/webhooks/deploy", data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as r:
            d.notes.append(f"POST /webhooks/deploy -> {r.status}")
    except urllib.error.HTTPError as e:
        d.notes.append(f"POST /webhooks/deploy -> {e.code}")
    except Exception as e:  # noqa
        d.notes.append(f"POST /webhooks/deploy failed: {e}")
    try:
        os.kill(int(open(d.path("run", "inventory.pid")).read()), 15)
    except OSError:
        pass


def fault_visible(d):
    return open(d.log("inventory")).read().count("exited with status 1") >= 3


def fixed(d):
    import time
    from run import http_status
    n = open(d.log("inventory")).read().count("exited with status")
    time.sleep(4)
    return open(d.log("inventory")).read().count("exited with status") == n and \
        http_status(f"http://127.0.0.1:{d.port('inventory')}/healthz") == 200
