"""A config file changed, then the service restarted and failing: someone sets
pricing_mode = "dynamic-v2" in pricing's config (a value this version does not know) and
restarts pricing; every request now fails with "invalid configuration". The file is in the
service's `watch_files`. The fix: restore the last known good config and restart."""
import json
import os
import subprocess

NAME = "config_changed"
TITLE = "pricing's config edited to an unknown value, pricing restarted and failing"
PROMPT = "prices are not loading on the shop, pricing is erroring since a few minutes"
EXPECT = dict(component="pricing", action="revert-pricing-config",
              cause=r"config|setting")


def setup(d):
    etc = d.path("etc", "pricing")
    os.makedirs(etc)
    conf = os.path.join(etc, "pricing.json")
    good = {"pricing_mode": "standard", "workers": 4, "currency": "EUR", "cache_ttl_s": 30}
    json.dump(good, open(conf, "w"), indent=2)
    json.dump(good, open(os.path.join(etc, "pricing.json.last-good"), "w"), indent=2)
    pr, web = d.port("pricing"), d.port("shop-web")
    d.start_svc("pricing", pr, fmt="text", config=conf, no_poll=True)
    d.start_svc("shop-web", web, fmt="json", dep=[f"pricing=http://127.0.0.1:{pr}/api/price"], interval=0.5)
    d.service("pricing", process=r"svc\.py --name pricing\b", watch_files=[conf])
    d.service("shop-web", depends_on=["pricing"], process=r"svc\.py --name shop-web\b")
    d.probe("pricing", url=f"http://127.0.0.1:{pr}/healthz")
    d.probe("shop-web", url=f"http://127.0.0.1:{web}/healthz")
    d.logs("pricing")
    d.logs("shop-web")
    revert = d.restart_script("pricing", fname="revert-pricing-config.sh",
                              pre=f"cp {etc}/pricing.json.last-good {conf}\necho 'restored {conf} from pricing.json.last-good'")
    d.action("revert-pricing-config", "pricing", "restore pricing's last known good configuration file and restart pricing",
             "/bin/bash", [revert])
    d.action("restart-pricing", "pricing", "restart pricing", "/bin/bash", [d.restart_script("pricing")])


def inject(d):
    conf = d.path("etc", "pricing", "pricing.json")
    cfg = json.load(open(conf))
    cfg["pricing_mode"] = "dynamic-v2"
    json.dump(cfg, open(conf, "w"), indent=2)
    subprocess.run(["/bin/bash", d.path("bin", "restart-pricing.sh")], capture_output=True, timeout=30)


def fault_visible(d):
    from run import http_status
    return http_status(f"http://127.0.0.1:{d.port('pricing')}/healthz") == 503


def fixed(d):
    from run import http_status
    return http_status(f"http://127.0.0.1:{d.port('pricing')}/healthz") == 200 and \
        http_status(f"http://127.0.0.1:{d.port('shop-web')}/healthz") == 200
