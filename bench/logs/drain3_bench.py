"""Drain3 (default settings) mining the same input as opsmcp: one thread, raw lines.

Prints one JSON object: lines, bytes, seconds, clusters, peak RSS.
"""
import json
import logging
import resource
import sys
import time

from drain3 import TemplateMiner

logging.disable(logging.CRITICAL)


def main() -> None:
    path, limit = sys.argv[1], int(sys.argv[2])
    miner = TemplateMiner()
    lines = 0
    size = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        batch = [line.rstrip("\n") for _, line in zip(range(limit), f)]
    start = time.perf_counter()
    for line in batch:
        miner.add_log_message(line)
        lines += 1
        size += len(line) + 1
    secs = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"lines": lines, "bytes": size, "seconds": secs,
                      "clusters": len(miner.drain.clusters), "peak_kb": peak_kb}))


if __name__ == "__main__":
    main()
