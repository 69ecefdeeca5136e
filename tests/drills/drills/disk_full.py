"""A disk filling: orders keeps its data on a small filesystem of its own (a 24 MB ext4 loop
mount, tmpfs if loop devices are unavailable). An export job dumps into its spool folder until the
disk is full; orders cannot persist orders (ENOSPC). The fix: clear the spool."""
import os
import subprocess

NAME = "disk_full"
TITLE = "orders' own 24 MB data filesystem filled by an export dump"
PROMPT = "orders is failing to save new orders"
EXPECT = dict(component="orders", action="clear-orders-spool",
              cause=r"disk|no.space|enospc|filesystem|volume|storage")


def setup(d):
    mnt = d.path("mnt", "orders-data")
    os.makedirs(mnt)
    img = d.path("orders-data.img")
    how = None
    try:
        subprocess.run(["truncate", "-s", "24M", img], check=True)
        subprocess.run(["mkfs.ext4", "-q", "-m", "0", img], check=True, capture_output=True)
        subprocess.run(["mount", "-o", "loop", img, mnt], check=True, capture_output=True)
        how = "ext4 loop mount"
    except (subprocess.CalledProcessError, FileNotFoundError):
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", mnt], check=True)
        how = "tmpfs"
    d.notes.append(f"orders data filesystem: {how} at {mnt}")

    def umount():
        r = subprocess.run(["umount", mnt], capture_output=True)
        if r.returncode != 0:
            subprocess.run(["umount", "-l", mnt], capture_output=True)
    d.on_late_cleanup(umount, f"umount {mnt}")
    os.makedirs(os.path.join(mnt, "db"))
    os.makedirs(os.path.join(mnt, "spool"))
    o, web = d.port("orders"), d.port("shop-web")
    d.start_svc("orders", o, fmt="text", data_dir=os.path.join(mnt, "db"), interval=0.3)
    d.start_svc("shop-web", web, fmt="json", dep=[f"orders=http://127.0.0.1:{o}/api/orders"], interval=0.5)
    d.service("orders", process=r"svc\.py --name orders\b")
    d.service("shop-web", depends_on=["orders"], process=r"svc\.py --name shop-web\b")
    d.probe("orders", url=f"http://127.0.0.1:{o}/healthz")
    d.probe("shop-web", url=f"http://127.0.0.1:{web}/healthz")
    d.logs("orders")
    d.logs("shop-web")
    clear = d.script("clear-orders-spool.sh", f"""#!/bin/bash
# delete export dumps from orders' spool folder (never the order data in db/)
rm -f {mnt}/spool/*.csv
df -h {mnt}
""")
    d.action("clear-orders-spool", "orders", f"free disk space on orders' data volume: delete the export dumps in {mnt}/spool (order data in db/ is kept)",
             "/bin/bash", [clear])
    d.action("restart-orders", "orders", "restart the orders service", "/bin/bash", [d.restart_script("orders")])


def inject(d):
    mnt = d.path("mnt", "orders-data")
    with open(d.log("orders"), "a") as f:
        import datetime as dt
        f.write(f"{dt.datetime.now(dt.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3]}Z INFO  [orders] export job started: dumping order history to {mnt}/spool/export-full.csv\n")
    subprocess.run(["dd", "if=/dev/zero", f"of={mnt}/spool/export-full.csv", "bs=4k", "count=16384"], capture_output=True)


def fault_visible(d):
    st = os.statvfs(d.path("mnt", "orders-data"))
    return st.f_bavail * st.f_frsize < 256 * 1024


def fixed(d):
    from run import http_status
    st = os.statvfs(d.path("mnt", "orders-data"))
    return st.f_bavail * st.f_frsize > 4 << 20 and http_status(f"http://127.0.0.1:{d.port('orders')}/healthz") == 200
