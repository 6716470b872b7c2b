"""A local SMTP server for the demo: keeps every mail as an .eml file and lists it.

Usage: python3 scripts/mail_catcher.py --port 2525 --dir var/demo-mails
Each caught mail is saved as <time>-<n>.eml and announced on one line (time, sender,
recipient, subject); the files open in any mail program.
"""

import argparse
import email
import email.policy
import itertools
import signal
import threading
from datetime import datetime
from pathlib import Path

from aiosmtpd.controller import Controller


class SavingHandler:
    def __init__(self, folder):
        self.folder = folder
        self.counter = itertools.count(len(list(folder.glob("*.eml"))) + 1)

    async def handle_DATA(self, server, session, envelope):
        now = datetime.now()
        path = self.folder / f"{now:%Y%m%d-%H%M%S}-{next(self.counter):04d}.eml"
        path.write_bytes(envelope.content)
        message = email.message_from_bytes(
            envelope.content, policy=email.policy.default
        )
        print(
            f"[mail {now:%H:%M:%S}] from {message['From']} to {message['To']}: "
            f"{message['Subject']}  ->  {path}",
            flush=True,
        )
        return "250 OK"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--dir", default="var/demo-mails")
    args = parser.parse_args()
    folder = Path(args.dir).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    controller = Controller(SavingHandler(folder), hostname="127.0.0.1", port=args.port)
    controller.start()
    print(f"mail catcher on 127.0.0.1:{args.port}, saving to {folder}", flush=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_args: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
