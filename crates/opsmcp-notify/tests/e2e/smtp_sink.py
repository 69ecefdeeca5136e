"""A real SMTP server for opsmcp-notify's SMTP test (aiosmtpd, from tests/python/requirements.txt).

    python smtp_sink.py PORT OUT_DIR

Listens on 127.0.0.1:PORT, writes each accepted message to OUT_DIR/NNNNN.json as
{"mail_from", "rcpt_tos", "data"} (written to a temporary name and renamed, so a reader never
sees half a file), refuses recipients whose local part is "nobody" with 550 (a permanent
failure), prints "READY" once listening and runs until killed or stdin closes.
"""

import json
import os
import sys

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, out_dir):
        self.out_dir = out_dir
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.split("@")[0] == "nobody":
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        path = os.path.join(self.out_dir, "%05d.json" % self.count)
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "data": envelope.content.decode("utf-8", "replace"),
        }
        with open(path + ".tmp", "w") as f:
            json.dump(record, f)
        os.replace(path + ".tmp", path)
        return "250 Message accepted for delivery"


def main():
    port, out_dir = int(sys.argv[1]), sys.argv[2]
    controller = Controller(Sink(out_dir), hostname="127.0.0.1", port=port)
    controller.start()
    print("READY", flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
