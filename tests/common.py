# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Helpers shared by the tests: contacts, users, and a real local SMTP server."""

import asyncio
import contextlib
import email
import email.policy
import json
import re
import socket
import threading
import time
import types
import unittest
from unittest.mock import patch

from aiosmtpd.controller import Controller

from odoo.exceptions import AccessDenied
from odoo.tests import new_test_user

from odoo.addons.base.models import ir_mail_server
from odoo.addons.partner_website_login import compat

MANAGER_GROUP = "partner_website_login.group_website_login_manager"
# what /web/login answers to every refusal (controllers/main.py)
REFUSAL = "Wrong login or password, or too many attempts: try again later."
PASSWORD_IN_MAIL = re.compile(r"Temporary password:\s*<strong>([^<]+)</strong>")


class RecordingHandler:
    """An SMTP server's handler, behaving as providers do where asked to: keeps each
    message, or refuses it with a 550; with ``hang_up_after``, it closes the
    connection at the DATA of the message after that many, without an answer; with
    ``delay``, it answers DATA that late; with ``rate``, it takes that many messages
    a second (a bucket of as many, refilled as time passes) and answers as Amazon
    SES does past it (454); with ``greylist``, it answers 451 to the first message
    for each recipient and takes the next."""

    def __init__(
        self,
        refuse=False,
        refuse_recipients=(),
        hang_up_after=None,
        delay=0,
        rate=None,
        greylist=False,
    ):
        self.refuse = refuse
        self.refuse_recipients = set(refuse_recipients)
        self.hang_up_after = hang_up_after
        self.delay = delay
        self.rate = rate
        self.tokens = rate or 0
        self.refilled = time.monotonic()
        self.greylist = greylist
        self.seen = set()  # recipients greylisted once
        self.messages = []
        self.cut_off = []  # messages whose DATA the server hung up on
        self.throttled = 0  # 454 answers given
        self.greylisted = 0  # 451 answers given
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.greylist and address not in self.seen:
            self.seen.add(address)
            self.greylisted += 1
            return "451 4.7.1 Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def take_token(self):
        """Whether the provider's rate lets one more message in now."""
        if not self.rate:
            return True
        with self.lock:
            now = time.monotonic()
            self.tokens = min(
                self.rate, self.tokens + (now - self.refilled) * self.rate
            )
            self.refilled = now
            if self.tokens < 1:
                self.throttled += 1
                return False
            self.tokens -= 1
            return True

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.hang_up_after is not None and len(self.messages) >= self.hang_up_after:
            self.hang_up_after = None  # once: the next connection works again
            self.cut_off.append(
                email.message_from_bytes(envelope.content, policy=email.policy.default)
            )
            server.transport.close()
            return "421 closing"  # never reaches the client
        if self.refuse or self.refuse_recipients & set(envelope.rcpt_tos):
            return "550 5.7.1 Mailbox unavailable for this test"
        if not self.take_token():
            return "454 4.7.0 Throttling failure: Maximum sending rate exceeded."
        message = email.message_from_bytes(
            envelope.content, policy=email.policy.default
        )
        with self.lock:
            self.messages.append(message)
        return "250 OK"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def smtp_server(
    env,
    refuse=False,
    reachable=True,
    refuse_recipients=(),
    from_filter=False,
    hang_up_after=None,
    delay=0,
    rate=None,
    greylist=False,
    rate_per_minute=0,
    quota_per_day=0,
):
    """A real SMTP server on 127.0.0.1 as the database's outgoing mail server.

    ir.mail_server skips SMTP while a test runs (``current_test``): inside this block
    it sees no test, so mails really travel over SMTP. Only ir.mail_server's view
    is changed, so that an HttpCase's browser keeps using the test cursor.
    """
    port = free_port()
    handler = RecordingHandler(
        refuse=refuse,
        refuse_recipients=refuse_recipients,
        hang_up_after=hang_up_after,
        delay=delay,
        rate=rate,
        greylist=greylist,
    )
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    if reachable:
        controller.start()
    env["ir.mail_server"].search([]).active = False
    env["ir.mail_server"].create(
        {
            "name": "test SMTP on 127.0.0.1",
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_encryption": "none",
            "from_filter": from_filter,
            "send_rate_per_minute": rate_per_minute,
            "send_quota_per_day": quota_per_day,
        }
    )
    no_test = types.SimpleNamespace(module=types.SimpleNamespace(current_test=None))
    try:
        with patch.object(ir_mail_server, "modules", no_test):
            yield handler
    finally:
        if reachable:
            controller.stop()


def message_html(message):
    part = message.get_body(preferencelist=("html",))
    return part.get_content() if part else ""


def recipients(smtp):
    """The addresses the SMTP server received mail for, one per message."""
    return sorted(
        address.addr_spec
        for message in smtp.messages
        for address in message["To"].addresses
    )


def password_from(message):
    match = PASSWORD_IN_MAIL.search(message_html(message))
    return match and match.group(1)


# Odoo's tests hash passwords with a cheap crypt context; timing needs the real one
Users = compat.users_class()
REAL_CRYPT_CONTEXT = Users._crypt_context
# samples per case of a timing comparison, taken interleaved
TIMING_SAMPLES = 20


class WebsiteLoginCase:
    """Mixin of record factories for TransactionCase and HttpCase tests."""

    @classmethod
    def use_real_password_hashing(cls):
        cls.startClassPatcher(patch.object(Users, "_crypt_context", REAL_CRYPT_CONTEXT))

    @classmethod
    def setup_website_login(cls):
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = cls.env["res.partner"].create(
            {"name": "Retailer Ltd", "is_company": True, "email": "shop@retailer.test"}
        )
        cls.manager = new_test_user(
            cls.env,
            login="pwl_manager",
            groups=f"base.group_user,{MANAGER_GROUP}",
            email="manager@ourcompany.test",
            name="Morgan Manager",
        )
        cls.clerk = new_test_user(
            cls.env,
            login="pwl_clerk",
            groups="base.group_user,base.group_partner_manager",
            email="clerk@ourcompany.test",
        )

    @classmethod
    def make_contact(cls, name="Jane Doe", username="jane.doe", **values):
        slug = name.lower().replace(" ", ".")
        return cls.env["res.partner"].create(
            {
                "name": name,
                "parent_id": cls.company.id,
                "email": f"{slug}@retailer.test",
                "username": username,
                "website_enabled": True,
                "allow_login": True,
                **values,
            }
        )

    @classmethod
    def leave_out_earlier_contacts(cls):
        """Contacts of earlier data (demo) must not blur the bulk invite's counts."""
        cls.env["res.partner"].with_context(active_test=False).search(
            [("website_enabled", "=", True)]
        ).write({"website_enabled": False})

    def odoo_login(self, login, password):
        """Odoo's login, as /web/login calls it: its auth_info, or AccessDenied."""
        self.env.flush_all()  # what the test wrote is saved, as after a request
        return compat.authenticate(
            self.env,
            {"type": "password", "login": login, "password": password},
            {"interactive": True},
        )

    def authenticates(self, login, password):
        """Whether Odoo's login, as /web/login calls it, accepts the pair."""
        try:
            self.odoo_login(login, password)
        except AccessDenied:
            return False
        return True

    @staticmethod
    def issue(partner):
        secrets, _expires_at = partner.env["partner.login.credential"]._issue(partner)
        return secrets[partner.id]

    @classmethod
    def make_active_contact(cls, password, **values):
        """A contact that has set a password of its own (state "Active")."""
        partner = cls.make_contact(**values)
        cls.issue(partner)
        partner.website_user_id.password = password
        return partner

    def post_login(self, login, password):
        """Fill in /web/login as a browser does (HttpCase only)."""
        self.url_open("/web/session/logout", allow_redirects=False)
        page = self.url_open("/web/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        return self.url_open(
            "/web/login",
            data={"login": login, "password": password, "csrf_token": csrf},
            allow_redirects=False,
        )

    def authenticate_json(self, login, password):
        """/web/session/authenticate as a script calls it: (seconds, error name)."""
        self.url_open("/web/session/logout", allow_redirects=False)
        started = time.perf_counter()
        response = self.url_open(
            "/web/session/authenticate",
            data=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "method": "call",
                    "params": {
                        "db": self.env.cr.dbname,
                        "login": login,
                        "password": password,
                    },
                }
            ),
            headers={"Content-Type": "application/json"},
        )
        seconds = time.perf_counter() - started
        error = response.json().get("error")
        return seconds, error and error["data"]["name"]

    def call_kw(self, model, method, args, kwargs=None):
        """A model method called as the web client calls it (HttpCase only)."""
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": args, "kwargs": kwargs or {}},
        )

    def forget_login_failures(self):
        """Odoo's cooldown counts failures per IP for the whole registry, the addon's
        lockout per account: start clean."""
        self.registry._login_failures = None
        self.addCleanup(setattr, self.registry, "_login_failures", None)
        self.env.cr.execute("DELETE FROM res_users_login_lockout")


def require_modules(env, *names):
    """Skip the test class unless Odoo's ``names`` are installed: tests of the addon
    beside modules it does not depend on run in the test command's webshop database
    (scripts/test.sh), and are skipped in the plain one."""
    modules = env["ir.module.module"]
    missing = [name for name in names if modules._get(name).state != "installed"]
    if missing:
        raise unittest.SkipTest(
            f"needs Odoo's {', '.join(missing)} installed (the webshop database)"
        )
