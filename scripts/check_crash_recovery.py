#!/usr/bin/env python3
"""Kill an Odoo server (SIGKILL) in the middle of a bulk invite, start it again, and
check what contacts are left with.

Usage: check_crash_recovery.py DATABASE ADDONS_PATH   (run by scripts/test.sh on the
test database, with the addon installed)

A real Odoo server (threaded, one cron thread) delivers the invites to a real SMTP
server on 127.0.0.1; once part of them arrived, the server is killed without warning
and started again. When the run is done, every contact must hold exactly one working
credential, no mail of the run may be left "sending", and each contact must have
received a last mail whose password logs in; at most one contact (the mail in
flight when the server was killed) received two mails.
"""

import asyncio
import email
import email.policy
import logging
import re
import sys
import tempfile
import time

from aiosmtpd.controller import Controller
from odoo_process import free_port, in_database, logs_in, start_server

import odoo
from odoo.tools import config

CONTACTS = 200
KILL_AFTER = 60
PASSWORD_IN_MAIL = re.compile(r"Temporary password: <strong>([^<]+)</strong>")
WORKER_CRON = "partner_website_login.ir_cron_process_website_invite_batches"


class SlowSink:
    """Takes every message, 10 ms each, so that the run lasts a few seconds."""

    def __init__(self):
        self.passwords = {}  # address -> [password, ...] in the order received

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.01)
        message = email.message_from_bytes(
            envelope.content, policy=email.policy.default
        )
        html = message.get_body(preferencelist=("html",)).get_content()
        match = PASSWORD_IN_MAIL.search(html)
        for address in envelope.rcpt_tos:
            self.passwords.setdefault(address, []).append(match and match.group(1))
        return "250 OK"

    def count(self):
        return sum(len(passwords) for passwords in self.passwords.values())


def prepare(env, smtp_port):
    env["ir.mail_server"].search([]).active = False
    env["ir.mail_server"].create(
        {
            "name": "crash recovery sink",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_port,
            "smtp_encryption": "none",
        }
    )
    env.company.partner_id.email = "noreply@ourcompany.test"
    env["res.partner"].search([("website_enabled", "=", True)]).website_enabled = False
    env["partner.invite.run"].search([("state", "=", "running")]).state = "done"
    contacts = env["res.partner"].create(
        [
            {
                "name": f"Crash Contact {index}",
                "email": f"crash.{index}@customer.test",
                "username": f"crash.{index}",
                "website_enabled": True,
                "allow_login": True,
            }
            for index in range(CONTACTS)
        ]
    )
    return {contact.email: contact.username for contact in contacts}


def start_run(env):
    env["res.partner"]._cron_send_bulk_website_invite()


def wake_worker(env):
    env.ref(WORKER_CRON)._trigger()


def run_state(env):
    run = env["partner.invite.run"].search([], limit=1)
    return run.state, run.invited_count, run.failed_count


def credentials_by_username(env):
    env.cr.execute(
        """SELECT p.username, count(DISTINCT c.id),
                  bool_or(line.outcome = 'sending')
             FROM res_partner p
             JOIN res_users u ON u.partner_id = p.id
             LEFT JOIN partner_login_credential c ON c.user_id = u.id
             LEFT JOIN partner_invite_run_line line ON line.partner_id = p.id
            WHERE p.username LIKE 'crash.%%'
            GROUP BY p.username"""
    )
    return {
        username: (count, sending) for username, count, sending in env.cr.fetchall()
    }


def main(db, addons_path):
    config.parse_config(
        ["-d", db, f"--addons-path={addons_path}", "--log-level=warn", "--no-http"]
    )
    odoo.modules.module.initialize_sys_path()
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's chatter
    sink = SlowSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    log_path = tempfile.mktemp(prefix="crash-recovery-", suffix=".log")
    problems = []
    server = None
    try:
        usernames = in_database(db, lambda env: prepare(env, controller.port))
        server, _url = start_server(db, addons_path, log_path)
        in_database(db, start_run)
        started = time.monotonic()
        while sink.count() < KILL_AFTER and time.monotonic() - started < 120:
            time.sleep(0.02)
        server.kill()  # SIGKILL: no clean-up of any kind
        server.wait()
        killed_at = sink.count()
        print(f"  killed the server after {killed_at} of {CONTACTS} mails")
        server, _url = start_server(db, addons_path, log_path)
        in_database(db, wake_worker)  # a restarted server polls within a minute
        started = time.monotonic()
        while time.monotonic() - started < 300:
            state, invited, failed = in_database(db, run_state)
            if state == "done":
                break
            time.sleep(0.5)
        server.terminate()
        server.wait(30)
        server = None
        print(
            f"  run {state}: {invited} invited, {failed} failed, {sink.count()} mails"
        )
        if state != "done":
            problems.append("the run did not end after the restart")
        if not 0 < killed_at < CONTACTS:
            problems.append("the server was not killed in the middle of the run")
        credentials = in_database(db, credentials_by_username)
        twice = 0
        for address, username in usernames.items():
            count, sending = credentials.get(username, (0, False))
            received = sink.passwords.get(address, [])
            twice += len(received) > 1
            if count != 1 or sending:
                problems.append(f"{username}: {count} credentials, sending={sending}")
            elif not received or not logs_in(db, username, received[-1]):
                problems.append(f"{username}: the last mail's password does not work")
        print(f"  contacts mailed twice (at most the mail in flight): {twice}")
        if twice > 1:
            problems.append(f"{twice} contacts were mailed twice (at most 1 may be)")
    finally:
        if server:
            server.kill()
        controller.stop()
    for problem in problems[:20]:
        print(f"  FAIL {problem}")
    if problems:
        print(f"crash recovery: {len(problems)} problems (server log: {log_path})")
        return 1
    print(
        "  ok   every contact holds exactly one working credential, none left "
        "sending, and its last mail's password works; at most one mailed twice"
    )
    print("crash recovery: every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
