"""A fault the engine has no rule for: clock skew. The auth service stamps the tokens it issues
with its own clock, which (as a bad NTP step would) jumps 10 minutes ahead — read from a drift
file it keeps, so a restart does not help. orders rejects every token as "not yet valid";
shop-web's calls fail with 401. Nothing in the runbook fixes it; the right answer is "unknown",
saying what was checked, running nothing."""
import os

NAME = "unknown_clock_skew"
TITLE = "auth's clock jumps 10 min ahead; its tokens are rejected as not yet valid"
PROMPT = "users are getting logged out and shop-web requests fail with 401"
EXPECT = dict(known=False)


def setup(d):
    au, od, web = d.port("auth"), d.port("orders"), d.port("shop-web")
    os.makedirs(d.path("run"), exist_ok=True)
    skew = d.path("run", "auth.clock-drift-s")
    open(skew, "w").write("0")
    d.start_svc("auth", au, fmt="logfmt", no_poll=True, skew_file=skew)
    d.start_svc("orders", od, fmt="text", no_poll=True)
    d.start_svc("shop-web", web, fmt="json", dep=[f"orders=http://127.0.0.1:{od}/api/orders"],
                token_from=f"http://127.0.0.1:{au}/token", interval=0.5)
    d.service("auth", process=r"svc\.py --name auth\b")
    d.service("orders", depends_on=["auth"], process=r"svc\.py --name orders\b")
    d.service("shop-web", depends_on=["orders", "auth"], process=r"svc\.py --name shop-web\b")
    for s in ("auth", "orders", "shop-web"):
        d.probe(s, url=f"http://127.0.0.1:{d.port(s)}/healthz")
        d.logs(s)
    d.action("restart-auth", "auth", "restart the auth service", "/bin/bash", [d.restart_script("auth")])
    d.action("restart-orders", "orders", "restart the orders service", "/bin/bash", [d.restart_script("orders")])
    d.action("restart-shop-web", "shop-web", "restart the shop-web frontend", "/bin/bash", [d.restart_script("shop-web")])


def inject(d):
    open(d.path("run", "auth.clock-drift-s"), "w").write("600")


def fault_visible(d):
    return "not yet valid" in open(d.log("orders")).read()


def fixed(d):
    return False
