"""A memory hog: imgproc (under a supervisor, in a 160 MB memory limit) caches every thumbnail a
new bulk client asks for and never evicts; it grows until the kernel kills it, restarts, grows
again. The limit is a cgroup v1 memory cgroup when writable, else cgroup v2, else RLIMIT_AS
(prlimit). The fix: cap the cache (the service reads the cap on every request)."""
import os
import random
import subprocess

NAME = "memory_hog"
TITLE = "imgproc grows under a 160 MB limit until it is killed (unbounded cache)"
PROMPT = "imgproc keeps dying and thumbnails are failing"
EXPECT = dict(component="imgproc", action="cap-thumbnail-cache",
              cause=r"memory|oom|leak|out.of.mem|rss|heap")
LIMIT_MB = 160


def _cgroup(d):
    """Make a memory-limited cgroup of our own; returns (procs file, how) or (None, None)."""
    name = f"opsmcp-drill-{os.getpid()}-{random.randint(0, 1 << 30):x}"
    for base, limit_file, val in (("/sys/fs/cgroup/memory", "memory.limit_in_bytes", str(LIMIT_MB << 20)),
                                  ("/sys/fs/cgroup/unified", "memory.max", str(LIMIT_MB << 20)),
                                  ("/sys/fs/cgroup", "memory.max", str(LIMIT_MB << 20))):
        cg = os.path.join(base, name)
        try:
            os.mkdir(cg)
        except OSError:
            continue
        try:
            with open(os.path.join(cg, limit_file), "w") as f:
                f.write(val)
            if base.endswith("memory"):
                try:  # no swap anyway; keep the kill prompt
                    open(os.path.join(cg, "memory.memsw.limit_in_bytes"), "w").write(val)
                except OSError:
                    pass
        except OSError:
            os.rmdir(cg)
            continue

        def rm(cg=cg):
            for _ in range(20):
                try:
                    os.rmdir(cg)
                    return
                except OSError:
                    import time
                    time.sleep(0.2)
        d.on_late_cleanup(rm, f"rmdir {cg}")
        return os.path.join(cg, "cgroup.procs"), f"cgroup {cg} ({limit_file}={val})"
    return None, None


def setup(d):
    from run import APPS, PY, wait_port
    img, web = d.port("imgproc"), d.port("shop-web")
    os.makedirs(d.path("run"), exist_ok=True)
    os.makedirs(d.path("logs"), exist_ok=True)
    cap_file = d.path("run", "imgproc.cache_cap_mb")
    argv = d.svc_argv("imgproc", img, fmt="logfmt", no_poll=True, cache_cap_file=cap_file)
    procs, how = _cgroup(d)
    if procs is None:
        argv = ["prlimit", f"--as={(LIMIT_MB + 300) << 20}", "--"] + argv  # address space incl. interpreter
        how = "RLIMIT_AS via prlimit"
    d.notes.append(f"memory limit: {how}")
    sup_argv = ["/bin/bash", os.path.join(APPS, "supervisor.sh"), "imgproc", d.log("imgproc"), "--"] + argv
    if procs:  # enter the cgroup first, then become the supervisor: every child starts inside it
        sup_argv = ["/bin/bash", "-c", f'echo $$ > {procs} && exec "$@"', "enter-cgroup"] + sup_argv
    d.spawn("imgproc-supervisor", sup_argv)
    wait_port(img)
    d.start_svc("shop-web", web, fmt="json", dep=[f"imgproc=http://127.0.0.1:{img}/api/thumbnail"], interval=0.5)
    d.service("imgproc", process=r"svc\.py --name imgproc\b")
    d.service("shop-web", depends_on=["imgproc"], process=r"svc\.py --name shop-web\b")
    d.probe("imgproc", url=f"http://127.0.0.1:{img}/healthz")
    d.probe("shop-web", url=f"http://127.0.0.1:{web}/healthz")
    d.logs("imgproc")
    d.logs("shop-web")
    fix = d.script("cap-thumbnail-cache.sh", f"""#!/bin/bash
# bound imgproc's thumbnail cache to 32 MB (read on every request; evicts the oldest)
echo 32 > {cap_file}
echo "imgproc thumbnail cache capped at 32 MB"
""")
    d.action("cap-thumbnail-cache", "imgproc", "cap imgproc's in-memory thumbnail cache at 32 MB (evicts the oldest entries, frees memory)",
             "/bin/bash", [fix])
    d.action("restart-shop-web", "shop-web", "restart the shop-web frontend", "/bin/bash", [d.restart_script("shop-web")])


def inject(d):
    # a bulk client starts asking for big uncached thumbnails: 4 MB each, 5 a second
    from run import PY
    code = f"""
import time, urllib.request
while True:
    try:
        urllib.request.urlopen('http://127.0.0.1:{d.port('imgproc')}/api/thumbnail?size=4096', timeout=3).read()
    except Exception:
        time.sleep(0.5)
    time.sleep(0.2)
"""
    p = d.path("bin", "bulk-thumbnailer.py")
    os.makedirs(d.path("bin"), exist_ok=True)
    open(p, "w").write(code)
    d.spawn("bulk-thumbnailer", [PY, p])


def fault_visible(d):
    return "killed by signal" in open(d.log("imgproc")).read() or "MemoryError" in open(d.log("imgproc")).read()


def fixed(d):
    import time
    from run import http_status
    before = open(d.log("imgproc")).read().count("starting imgproc")
    time.sleep(6)
    after = open(d.log("imgproc")).read().count("starting imgproc")
    return after == before and http_status(f"http://127.0.0.1:{d.port('imgproc')}/healthz") == 200
