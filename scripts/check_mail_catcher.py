#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The demo's mail catcher (scripts/mail_catcher.py) as a web page and a stranger
would meet it: its mails hold working passwords.

Usage: check_mail_catcher.py   (run by scripts/test.sh)

It takes a mail with an attachment that has no file name and shows it; it answers
no page to a request whose Host is not this machine (a web page that renamed
itself to 127.0.0.1), and it ends the connection of a browser that a web page made
post HTTP to its SMTP port, delivering nothing hidden in that post.
"""

import email.message
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from odoo_process import free_port

CATCHER = Path(__file__).resolve().parent / "mail_catcher.py"


def page(port, path="/", host=None):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if host:
        request.add_header("Host", host)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


def main():
    checks = []

    def check(condition, what):
        print(f"  {'ok  ' if condition else 'FAIL'} {what}")
        checks.append(condition)

    smtp_port, web_port = free_port(), free_port()
    with tempfile.TemporaryDirectory() as folder:
        catcher = subprocess.Popen(
            [
                sys.executable,
                str(CATCHER),
                "--port",
                str(smtp_port),
                "--web-port",
                str(web_port),
                "--dir",
                folder,
            ],
            stdout=subprocess.DEVNULL,
        )
        try:
            for _attempt in range(50):
                try:
                    socket.create_connection(("127.0.0.1", smtp_port), 1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            message = email.message.EmailMessage()
            message["From"], message["To"] = "a@example.test", "b@example.test"
            message["Subject"] = "With an attachment without a name"
            message.set_content("Hello")
            message.add_attachment(
                b"data", maintype="application", subtype="octet-stream"
            )
            with smtplib.SMTP("127.0.0.1", smtp_port) as session:
                session.send_message(message)
            [saved] = Path(folder).glob("*.eml")
            status, _text = page(web_port, f"/mail/{saved.stem}")
            check(status == 200, "a mail with a nameless attachment is shown")
            status, _text = page(web_port, "/", host=f"evil.test:{web_port}")
            check(status == 421, "a page asked for under another Host is refused")
            with socket.create_connection(("127.0.0.1", smtp_port), 5) as sock:
                sock.recv(1024)
                sock.sendall(
                    b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nHELO x\r\n"
                    b"MAIL FROM:<x@evil.test>\r\nRCPT TO:<y@evil.test>\r\nDATA\r\n"
                    b"Subject: smuggled\r\n\r\nx\r\n.\r\n"
                )
                time.sleep(0.5)
                answer = sock.recv(1024)
            check(
                answer.startswith(b"421"), "HTTP on the SMTP port ends the connection"
            )
            check(
                len(list(Path(folder).glob("*.eml"))) == 1,
                "... and delivers nothing it carried",
            )
        finally:
            catcher.terminate()
            catcher.wait(10)
    if not all(checks):
        print("mail catcher: some checks failed")
        return 1
    print("mail catcher: every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
