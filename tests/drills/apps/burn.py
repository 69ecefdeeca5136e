#!/usr/bin/env python3
"""A CPU hog: reports-worker --job NAME --procs N burns N cores until killed."""
import os, sys, multiprocessing, time, datetime as dt
args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
job, procs, logf = args.get("--job", "reindex"), int(args.get("--procs", "2")), args["--log"]

def spin():
    x = 0
    while True:
        x = (x * 1103515245 + 12345) % 2147483648

with open(logf, "a") as f:
    f.write(f"{dt.datetime.now(dt.timezone.utc).isoformat(timespec='milliseconds')} INFO [reports] job {job} started pid={os.getpid()} workers={procs}\n")
ps = [multiprocessing.Process(target=spin, daemon=True) for _ in range(procs)]
for p in ps:
    p.start()
for p in ps:
    p.join()
