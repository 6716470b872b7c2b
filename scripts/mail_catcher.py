"""A local SMTP server for the demo, with a page to read the caught mails.

Usage: python3 scripts/mail_catcher.py --port 2525 --web-port 1080 --dir var/demo-mails

Every mail is saved as <time>-<n>.eml (any mail program opens it), announced on one
line in the terminal, and listed on http://127.0.0.1:<web-port>/, newest first; a
click shows it as a mail program would. Both servers listen on 127.0.0.1 only: the
demo's mails hold working passwords.
"""

import argparse
import email
import email.policy
import html
import itertools
import signal
import threading
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

# The mail's own HTML is shown in a sandboxed frame: no script, no form, no request
# to anywhere (images included), so a caught mail cannot act on this page.
PAGE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-src 'self'"
)
# A link followed inside the frame would show Odoo's pages framed, which Odoo
# refuses (X-Frame-Options): the mail's links open a new tab, as a mail program's
# do, and that tab leaves the sandbox so the login page works there.
MAIL_FRAME_SANDBOX = "allow-popups allow-popups-to-escape-sandbox"
LINKS_IN_NEW_TAB = '<base target="_blank">'
STYLE = """
body { font-family: sans-serif; margin: 0; color: #222; }
header { background: #714b67; color: white; padding: .6em 1em; font-size: 1.2em; }
table { border-collapse: collapse; width: 100%; }
td, th { text-align: left; padding: .5em 1em; border-bottom: 1px solid #ddd; }
tr:hover td { background: #f5f0f4; }
a { color: #714b67; }
dl { margin: 1em; display: grid; gap: .3em 1em;
     grid-template-columns: max-content auto; }
dt { font-weight: bold; }
dd { margin: 0; }
iframe { width: calc(100% - 2em); height: 70vh; margin: 0 1em; border: 1px solid #ddd; }
pre { margin: 1em; white-space: pre-wrap; }
"""


# A web page may make the browser send HTTP to this SMTP port (ports above 1024 are
# not blocked by browsers), with SMTP commands hidden in its body: the connection
# ends at the first HTTP command, as Postfix's smtpd_forbidden_commands does.
HTTP_COMMANDS = ("GET", "POST", "PUT", "HEAD", "OPTIONS", "CONNECT", "DELETE", "PATCH")


class GuardedSMTP(SMTP):
    pass


for _command in HTTP_COMMANDS:

    async def _refuse_http(self, arg, _command=_command):
        await self.push("421 4.7.0 HTTP is not SMTP: closing")
        self.transport.close()

    setattr(GuardedSMTP, f"smtp_{_command}", _refuse_http)


class CatcherController(Controller):
    def factory(self):
        return GuardedSMTP(self.handler, **self.SMTP_kwargs)


def read_mail(path):
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


class SavingHandler:
    def __init__(self, folder):
        self.folder = folder
        self.counter = itertools.count(len(list(folder.glob("*.eml"))) + 1)

    async def handle_DATA(self, server, session, envelope):
        now = datetime.now()
        path = self.folder / f"{now:%Y%m%d-%H%M%S}-{next(self.counter):04d}.eml"
        path.write_bytes(envelope.content)
        message = read_mail(path)
        print(
            f"[mail {now:%H:%M:%S}] from {message['From']} to {message['To']}: "
            f"{message['Subject']}  ->  {path}",
            flush=True,
        )
        return "250 OK"


def page(title, body, refresh=False):
    meta = '<meta http-equiv="refresh" content="5">' if refresh else ""
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8">{meta}'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><header>{html.escape(title)}</header>{body}</body></html>"
    )


def mail_list(folder):
    rows = []
    mails = sorted(folder.glob("*.eml"), reverse=True)
    for path in mails:
        message = read_mail(path)
        cells = (
            html.escape(str(message["Date"] or "")),
            html.escape(str(message["To"] or "")),
            f'<a href="/mail/{html.escape(path.stem)}">'
            f"{html.escape(str(message['Subject'] or '(no subject)'))}</a>",
        )
        rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    if not rows:
        rows = [
            '<tr><td colspan="3">No mail yet: this page refreshes itself.</td></tr>'
        ]
    table = (
        "<table><tr><th>Date</th><th>To</th><th>Subject</th></tr>"
        + "".join(rows)
        + "</table>"
    )
    return page(f"Caught mails ({len(mails)})", table, refresh=True)


def mail_view(path):
    message = read_mail(path)
    headers = "".join(
        f"<dt>{name}</dt><dd>{html.escape(str(message[name]))}</dd>"
        for name in ("From", "To", "Cc", "Reply-To", "Date", "Subject")
        if message[name]
    )
    attachments = [
        part.get_filename() or "(no name)" for part in message.iter_attachments()
    ]
    if attachments:
        headers += "<dt>Attachments</dt><dd>" + html.escape(", ".join(attachments))
        headers += "</dd>"
    body = message.get_body(("html", "plain"))
    content = body.get_content() if body else ""
    if body is not None and body.get_content_subtype() == "html":
        # the first <base> with a target wins: the mail's own cannot undo it
        framed = html.escape(LINKS_IN_NEW_TAB + content, quote=True)
        shown = f'<iframe sandbox="{MAIL_FRAME_SANDBOX}" srcdoc="{framed}"></iframe>'
    else:
        shown = f"<pre>{html.escape(content)}</pre>"
    back = '<p style="margin: 1em"><a href="/">&larr; all mails</a></p>'
    title = str(message["Subject"] or "(no subject)")
    return page(title, back + f"<dl>{headers}</dl>" + shown)


def make_web_handler(folder, port):
    allowed_hosts = {f"127.0.0.1:{port}", f"localhost:{port}"}

    class MailPages(BaseHTTPRequestHandler):
        def do_GET(self):
            # the page holds working passwords: only for this machine's browser,
            # not for a web page that renames itself to 127.0.0.1 (DNS rebinding)
            if self.headers.get("Host") not in allowed_hosts:
                self.send_error(HTTPStatus.MISDIRECTED_REQUEST)
                return
            if self.path == "/":
                self.answer(mail_list(folder))
                return
            name = self.path.removeprefix("/mail/")
            path = folder / f"{name}.eml"
            # only names the list gave out: no path leaves the folder
            if self.path.startswith("/mail/") and path in folder.glob("*.eml"):
                self.answer(mail_view(path))
            else:
                self.send_error(HTTPStatus.NOT_FOUND)

        def answer(self, text):
            data = text.encode()
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Security-Policy", PAGE_POLICY)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass  # the terminal lists the mails, not the page views

    return MailPages


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--web-port", type=int, default=1080)
    parser.add_argument("--dir", default="var/demo-mails")
    args = parser.parse_args()
    folder = Path(args.dir).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    controller = CatcherController(
        SavingHandler(folder), hostname="127.0.0.1", port=args.port
    )
    controller.start()
    web = ThreadingHTTPServer(
        ("127.0.0.1", args.web_port), make_web_handler(folder, args.web_port)
    )
    threading.Thread(target=web.serve_forever, daemon=True).start()
    print(
        f"mail catcher: SMTP on 127.0.0.1:{args.port}, mails on "
        f"http://127.0.0.1:{args.web_port}/, saved in {folder}",
        flush=True,
    )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_args: stop.set())
    stop.wait()
    web.shutdown()
    controller.stop()


if __name__ == "__main__":
    main()
