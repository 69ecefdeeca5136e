"""A dependency killed: catalog is SIGKILLed; shop-web, which calls it, logs connection refused."""
import signal

NAME = "dependency_killed"
TITLE = "catalog killed (SIGKILL); its caller shop-web logs connection refused"
PROMPT = "shop-web is returning errors, product pages are failing"
EXPECT = dict(component="catalog", action="restart-catalog",
              cause=r"\bdown\b|unreachable|unavailable|refus|crash|dead|not.?running|stopped|exited|killed|outage|no.?process|process.?(exit|death|gone)")


def setup(d):
    cat, web = d.port("catalog"), d.port("shop-web")
    d.start_svc("catalog", cat, fmt="text", no_poll=True)
    d.start_svc("shop-web", web, fmt="json", dep=[f"catalog=http://127.0.0.1:{cat}/api/products"], interval=0.5)
    d.service("catalog", process=r"svc\.py --name catalog\b")
    d.service("shop-web", depends_on=["catalog"], process=r"svc\.py --name shop-web\b")
    d.probe("catalog", url=f"http://127.0.0.1:{cat}/healthz")
    d.probe("shop-web", url=f"http://127.0.0.1:{web}/healthz")
    d.logs("catalog")
    d.logs("shop-web")
    d.action("restart-catalog", "catalog", "restart the catalog service (stop it if running, start it again)",
             "/bin/bash", [d.restart_script("catalog")])
    d.action("restart-shop-web", "shop-web", "restart the shop-web frontend", "/bin/bash", [d.restart_script("shop-web")])


def inject(d):
    d.kill_svc("catalog", signal.SIGKILL)


def fault_visible(d):
    from run import http_status
    return http_status(f"http://127.0.0.1:{d.port('catalog')}/healthz") is None


def fixed(d):
    from run import http_status
    return (http_status(f"http://127.0.0.1:{d.port('catalog')}/healthz") == 200
            and http_status(f"http://127.0.0.1:{d.port('shop-web')}/healthz") == 200)
