#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The demo's mail catcher (scripts/mail_catcher.py) as a web page and a stranger
would meet it: its mails hold working passwords.

Usage: check_mail_catcher.py   (run by scripts/test.sh)

It takes a mail with an attachment that has no file name and shows it; it answers
no page to a request whose Host is not this machine (a web page that renamed
itself to 127.0.0.1), and it ends the connection of a browser that a web page made
post HTTP to its SMTP port, delivering nothing hidden in that post. In Chromium, a
click on the mail's Log in link opens the login page in a new tab, where its
scripts run, though that page refuses to be framed as Odoo's pages do.
"""

import email.message
import json
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import websocket  # websocket-client: Odoo's own browser tests need it too
from odoo_process import free_port

CATCHER = Path(__file__).resolve().parent / "mail_catcher.py"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
# What Odoo's login page answers that matters here: it refuses to be framed, and
# it needs its scripts (its title changes only where they run).
LOGIN_PAGE = (
    b"<!DOCTYPE html><html><head><title>Login</title></head><body>Login"
    b"<script>document.title = 'Login ready';</script></body></html>"
)


def page(port, path="/", host=None):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if host:
        request.add_header("Host", host)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


class LoginPage(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Content-Security-Policy", "frame-ancestors 'self'")
        self.send_header("Content-Length", str(len(LOGIN_PAGE)))
        self.end_headers()
        self.wfile.write(LOGIN_PAGE)

    def log_message(self, *args):
        pass


class DevTools:
    """Chromium's DevTools protocol, one browser connection, flat sessions."""

    def __init__(self, url):
        self.socket = websocket.create_connection(url, timeout=10)
        self.ids = iter(range(1, 1_000_000))
        self.events = []

    def send(self, method, session=None, **params):
        message_id = next(self.ids)
        message = {"id": message_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self.socket.send(json.dumps(message))
        while True:
            answer = json.loads(self.socket.recv())
            if answer.get("id") == message_id:
                return answer.get("result", {})
            self.events.append(answer)

    def targets(self):
        return self.send("Target.getTargets")["targetInfos"]


def find_link(node, href):
    attributes = node.get("attributes", [])
    if node.get("nodeName") == "A" and href in attributes:
        return node
    children = node.get("children", []) + [
        node[key] for key in ("contentDocument",) if key in node
    ]
    for child in children:
        if found := find_link(child, href):
            return found
    return None


def login_link_opens_login_page(web_port, mail_stem, login_url, folder):
    """Clicks the Log in link of the mail page in Chromium: the title of the tab
    the login URL opened in, or why there is none."""
    browser = next(filter(None, map(shutil.which, BROWSERS)), None)
    if not browser:
        return "no Chromium here"
    debug_port = free_port()
    chromium = subprocess.Popen(
        [
            browser,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            # the mail's sandboxed frame in the page's own process: one DOM to read
            "--disable-site-isolation-trials",
            "--disable-features=IsolateOrigins,site-per-process",
            f"--remote-debugging-port={debug_port}",
            f"--user-data-dir={folder}/chromium",
            "--window-size=1200,900",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _attempt in range(100):
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{debug_port}/json/version", timeout=2
                ) as answer:
                    version = json.load(answer)
                break
            except OSError:
                time.sleep(0.2)
        tools = DevTools(version["webSocketDebuggerUrl"])
        target = tools.send(
            "Target.createTarget", url=f"http://127.0.0.1:{web_port}/mail/{mail_stem}"
        )["targetId"]
        session = tools.send("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        for _attempt in range(50):
            # the frame is another origin (sandboxed): its DOM through DevTools
            link = find_link(
                tools.send("DOM.getDocument", session, depth=-1, pierce=True)["root"],
                login_url,
            )
            if link:
                break
            time.sleep(0.2)
        else:
            return "the mail's link was not shown"
        quad = tools.send(
            "DOM.getBoxModel", session, backendNodeId=link["backendNodeId"]
        )["model"]["content"]
        x, y = (quad[0] + quad[4]) / 2, (quad[1] + quad[5]) / 2
        for kind in ("mousePressed", "mouseReleased"):
            tools.send(
                "Input.dispatchMouseEvent",
                session,
                type=kind,
                x=x,
                y=y,
                button="left",
                clickCount=1,
            )
        for _attempt in range(50):
            opened = [
                info
                for info in tools.targets()
                if info["type"] == "page" and info["url"] == login_url
            ]
            if opened and opened[0]["title"] == "Login ready":
                return opened[0]["title"]
            time.sleep(0.2)
        return opened[0]["title"] if opened else None
    finally:
        chromium.terminate()
        chromium.wait(10)


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
            login_server = ThreadingHTTPServer(("127.0.0.1", 0), LoginPage)
            threading.Thread(target=login_server.serve_forever, daemon=True).start()
            login_url = (
                f"http://127.0.0.1:{login_server.server_address[1]}"
                "/web/login?login=ada%40example.test"
            )
            message = email.message.EmailMessage()
            message["From"], message["To"] = "a@example.test", "ada@example.test"
            message["Subject"] = "Your website login"
            message.set_content("Log in: " + login_url)
            message.add_alternative(
                f'<p>Your login.</p><p><a href="{login_url}"'
                ' style="display: inline-block; padding: 8px">Log in</a></p>',
                subtype="html",
            )
            with smtplib.SMTP("127.0.0.1", smtp_port) as session:
                session.send_message(message)
            [mail] = [
                path
                for path in Path(folder).glob("*.eml")
                if "Your website login" in path.read_text()
            ]
            try:
                title = login_link_opens_login_page(
                    web_port, mail.stem, login_url, folder
                )
            finally:
                login_server.shutdown()
            check(
                title == "Login ready",
                f"the mail's Log in opens the login page in a new tab ({title})",
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
