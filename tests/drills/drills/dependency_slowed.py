"""A dependency slowed: a TCP proxy (catalog-lb) in front of catalog starts adding 2.5 s to every
response; shop-web's calls (1.5 s timeout) time out. The fix: fail over to the standby replica."""
import os

NAME = "dependency_slowed"
TITLE = "catalog slowed by a latency-adding TCP proxy; shop-web times out"
PROMPT = "shop-web got really slow, pages time out"
EXPECT = dict(component="catalog", action="failover-catalog",
              cause=r"slow|latenc|timeout|timed.?out|degrad|delay")


def setup(d):
    from run import PY, APPS
    cat, standby, lb, web = d.port("catalog"), d.port("catalog-standby"), d.port("catalog-lb"), d.port("shop-web")
    d.start_svc("catalog", cat, fmt="text", no_poll=True)
    d.start_svc("catalog-standby", standby, fmt="text", no_poll=True)
    open(d.path("run", "delay_ms"), "w").write("0")
    d.spawn("catalog-lb", [PY, os.path.join(APPS, "proxy.py"), str(lb), f"127.0.0.1:{cat}", d.path("run", "delay_ms"), d.log("catalog")])
    from run import wait_port
    wait_port(lb)
    upstream = d.path("run", "shop-web.upstream")
    open(upstream, "w").write(f"http://127.0.0.1:{lb}/api/products")
    d.start_svc("shop-web", web, fmt="json", dep=[f"catalog=http://127.0.0.1:{lb}/api/products"],
                upstream_file=upstream, timeout=1.5, slow_ms=400, interval=0.5)
    d.service("catalog", process=r"svc\.py --name catalog\b|proxy\.py")
    d.service("shop-web", depends_on=["catalog"], process=r"svc\.py --name shop-web\b")
    d.probe("catalog", url=f"http://127.0.0.1:{lb}/healthz", slow_ms=500, timeout_ms=2000)
    d.probe("shop-web", url=f"http://127.0.0.1:{web}/healthz", slow_ms=500)
    d.logs("catalog")
    d.logs("shop-web")
    fo = d.script("failover-catalog.sh", f"""#!/bin/bash
# point shop-web at the standby catalog replica
echo "http://127.0.0.1:{standby}/api/products" > {upstream}
echo "shop-web now uses catalog-standby at 127.0.0.1:{standby}"
""")
    d.action("failover-catalog", "catalog", "fail shop-web over to the standby catalog replica", "/bin/bash", [fo], risk="medium")
    d.action("restart-shop-web", "shop-web", "restart the shop-web frontend", "/bin/bash", [d.restart_script("shop-web")])


def inject(d):
    open(d.path("run", "delay_ms"), "w").write("2500")


def fault_visible(d):
    import time
    from run import http_status
    t = time.time()
    http_status(f"http://127.0.0.1:{d.port('catalog-lb')}/healthz", timeout=5)
    return time.time() - t > 2


def fixed(d):
    from run import http_status
    return http_status(f"http://127.0.0.1:{d.port('shop-web')}/healthz") == 200 and \
        open(d.path("run", "shop-web.upstream")).read().find(str(d.port("catalog-standby"))) >= 0
