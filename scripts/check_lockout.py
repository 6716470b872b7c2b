#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The per-account lockout seen across two Odoo server processes on one database.

Usage: check_lockout.py DATABASE ADDONS_PATH   (run by scripts/test.sh on the test
database, with the addon installed)

Two real Odoo servers serve the same database. A guesser spreads wrong passwords
for one portal account over both; once the failures reach the setting, the account
refuses its right password on both servers. A manager's Unlock lets it in again on
either, and a success resets the count. Odoo's own per-IP cooldown, kept in each
process's memory, is switched off here, so that only the addon's lockout acts.
"""

import sys
import tempfile

import requests
from odoo_process import in_database, start_server

import odoo
from odoo.tools import config

PASSWORD = "Lockout-Check-Password-1"
FAILURES = 6  # the lockout threshold set for the check, spread over two servers


SETTINGS = {
    "partner_website_login.lockout_failures": FAILURES,
    "base.login_cooldown_after": 0,  # Odoo's per-process cooldown off
}


def prepare(env):
    parameters = env["ir.config_parameter"]
    before = {key: parameters.get_param(key) for key in SETTINGS}
    for key, value in SETTINGS.items():
        parameters.set_param(key, value)
    partner = env["res.partner"].search([("username", "=", "lockout.check")])
    partner = partner or env["res.partner"].create(
        {
            "name": "Lockout Check",
            "email": "lockout.check@example.test",
            "username": "lockout.check",
            "allow_login": True,
        }
    )
    env["partner.login.credential"]._issue(partner)
    partner.website_user_id.password = PASSWORD
    return partner.id, before


def restore(env, before):
    for key, value in before.items():
        env["ir.config_parameter"].set_param(key, value)  # False deletes it


def logs_in(url, db, password):
    answer = requests.post(
        f"{url}/web/session/authenticate",
        json={
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"db": db, "login": "lockout.check", "password": password},
        },
        timeout=30,
    ).json()
    return "error" not in answer


def main(db, addons_path):
    config.parse_config(
        ["-d", db, f"--addons-path={addons_path}", "--log-level=warn", "--no-http"]
    )
    odoo.modules.module.initialize_sys_path()
    log_path = tempfile.mktemp(prefix="lockout-", suffix=".log")
    checks = []

    def check(condition, what):
        print(f"  {'ok  ' if condition else 'FAIL'} {what}")
        checks.append(condition)

    servers = []
    partner_id, before = in_database(db, prepare)
    try:
        servers = [start_server(db, addons_path, log_path) for _server in range(2)]
        (_first, url_a), (_second, url_b) = servers
        for attempt in range(FAILURES):  # A, B, A, B, ...
            logs_in((url_a, url_b)[attempt % 2], db, "wrong-guess")
        check(
            not logs_in(url_a, db, PASSWORD) and not logs_in(url_b, db, PASSWORD),
            f"{FAILURES} failures spread over two servers lock the account on both",
        )
        in_database(  # the administrator, a Website Login manager, clicks Unlock
            db,
            lambda env: (
                env["res.partner"]
                .with_user(env.ref("base.user_admin"))
                .browse(partner_id)
                .action_unlock_website_login()
            ),
        )
        check(logs_in(url_b, db, PASSWORD), "a manager's Unlock lets it in again")
        for attempt in range(FAILURES - 1):
            logs_in((url_a, url_b)[attempt % 2], db, "wrong-guess")
        check(logs_in(url_a, db, PASSWORD), "a success before the limit...")
        for attempt in range(FAILURES - 1):
            logs_in((url_a, url_b)[attempt % 2], db, "wrong-guess")
        check(logs_in(url_b, db, PASSWORD), "... starts the count again")
    finally:
        for process, _url in servers:
            process.terminate()
            process.wait(30)
        in_database(db, lambda env: restore(env, before))
    if not all(checks):
        print(f"lockout: some checks failed (server log: {log_path})")
        return 1
    print("lockout: every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
