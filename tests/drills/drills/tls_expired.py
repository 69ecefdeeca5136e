"""A TLS endpoint serving an expired certificate: payments serves https with a certificate from a
drill CA (generated with openssl). A botched rotation installs a certificate that expired in
2025 and restarts payments; its caller shop-web logs "certificate has expired"; the https probe
fails. opsmcp is started with SSL_CERT_FILE = the system bundle + the drill CA, so the probe can
trust the endpoint before the fault. The fix: renew the certificate and restart payments."""
import os
import subprocess

NAME = "tls_expired"
TITLE = "payments' https endpoint serves an expired certificate"
PROMPT = "checkout payments are failing, shop-web says it cannot talk to payments"
EXPECT = dict(component="payments", action="renew-payments-certificate",
              cause=r"cert|tls|ssl|x509|expir")

CA_CNF = """[ ca ]
default_ca = d
[ d ]
dir = {dir}
database = {dir}/index.txt
serial = {dir}/serial
new_certs_dir = {dir}
default_md = sha256
policy = p
copy_extensions = copy
unique_subject = no
[ p ]
commonName = supplied
"""


def ossl(*args, cwd):
    r = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args[:2])}: {r.stderr[-400:]}")


def make_certs(pki):
    os.makedirs(pki, exist_ok=True)
    open(os.path.join(pki, "index.txt"), "w").close()
    open(os.path.join(pki, "serial"), "w").write("1000\n")
    open(os.path.join(pki, "ca.cnf"), "w").write(CA_CNF.format(dir=pki))
    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "365",
         "-subj", "/CN=opsmcp drill CA", cwd=pki)
    ossl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "payments.key", "-out", "payments.csr",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", cwd=pki)
    # the good one: valid for 30 days; the bad one: expired on 2025-02-01
    ossl("ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key", "-in", "payments.csr",
         "-days", "30", "-out", "payments-good.pem", cwd=pki)
    ossl("ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key", "-in", "payments.csr",
         "-startdate", "20250101000000Z", "-enddate", "20250201000000Z", "-out", "payments-expired.pem", cwd=pki)


def setup(d):
    pki = d.path("pki")
    make_certs(pki)
    live = d.path("pki", "payments.pem")
    open(live, "w").write(open(os.path.join(pki, "payments-good.pem")).read())
    bundle = d.path("pki", "trust-bundle.pem")
    sysb = next((p for p in ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt") if os.path.exists(p)), None)
    with open(bundle, "w") as f:
        if sysb:
            f.write(open(sysb).read())
        f.write(open(os.path.join(pki, "ca.pem")).read())
    d.up_env.update(SSL_CERT_FILE=bundle)
    pay, web = d.port("payments"), d.port("shop-web")
    d.start_svc("payments", pay, fmt="logfmt", no_poll=True, tls_cert=live, tls_key=os.path.join(pki, "payments.key"))
    d.start_svc("shop-web", web, fmt="json", dep=[f"payments=https://127.0.0.1:{pay}/api/charge"],
                cafile=os.path.join(pki, "ca.pem"), interval=0.5)
    d.service("payments", process=r"svc\.py --name payments\b")
    d.service("shop-web", depends_on=["payments"], process=r"svc\.py --name shop-web\b")
    d.probe("payments", url=f"https://127.0.0.1:{pay}/healthz")
    d.probe("shop-web", url=f"http://127.0.0.1:{web}/healthz")
    d.logs("payments")
    d.logs("shop-web")
    renew = d.restart_script("payments", fname="renew-payments-certificate.sh", pre=f"""
# renew: a fresh 30-day certificate from the CA, installed, then payments restarted
cd {pki} && openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in payments.csr -days 30 -out payments-renewed.pem >/dev/null 2>&1 || exit 1
cp {pki}/payments-renewed.pem {live}
""")
    d.action("renew-payments-certificate", "payments", "issue a new TLS certificate for payments from the internal CA, install it and restart payments",
             "/bin/bash", [renew])
    d.action("restart-payments", "payments", "restart payments", "/bin/bash", [d.restart_script("payments")])


def inject(d):
    live = d.path("pki", "payments.pem")
    open(live, "w").write(open(d.path("pki", "payments-expired.pem")).read())
    subprocess.run(["/bin/bash", d.path("bin", "restart-payments.sh")], capture_output=True, timeout=30)


def fault_visible(d):
    from run import http_status
    return http_status(f"https://127.0.0.1:{d.port('payments')}/healthz", cafile=d.path("pki", "ca.pem")) is None


def fixed(d):
    from run import http_status
    return http_status(f"https://127.0.0.1:{d.port('payments')}/healthz", cafile=d.path("pki", "ca.pem")) == 200 and \
        http_status(f"http://127.0.0.1:{d.port('shop-web')}/healthz") == 200
