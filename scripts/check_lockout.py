#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The per-account lockout seen across two real Odoo server processes on one
database, under simultaneous guesses, over RPC, and timed.

Usage: check_lockout.py DATABASE ADDONS_PATH   (run by scripts/test.sh on the test
database, with the addon installed)

Two real Odoo servers serve the same database. A guesser spreads wrong passwords
for one portal account over both; once the failures reach the setting, the account
refuses its right password on both servers. A manager's Unlock lets it in again on
either, and a success resets the count. Guesses sent all at once are counted before
they are checked: no more of them are checked than the setting allows. Guesses over
XML-RPC by user id lock RPC, not the login page. A locked account refuses its right
password in the time of a wrong one (interleaved samples; the medians are printed
to compare). Odoo's own per-IP cooldown is switched off here, so that only the
addon's lockout acts.
"""

import statistics
import sys
import tempfile
import time
import xmlrpc.client
from concurrent.futures import ThreadPoolExecutor

import requests
from odoo_process import in_database, start_server

import odoo
from odoo.tools import config

PASSWORD = "Lockout-Check-Password-1"
FAILURES = 6  # the lockout threshold set for the check, spread over two servers
SIMULTANEOUS = 16
TIMING_SAMPLES = 20

SETTINGS = {
    "partner_website_login.lockout_failures": FAILURES,
    "partner_website_login.ip_cooldown_failures": 0,  # Odoo's per-address pause off
}


def prepare(env):
    parameters = env["ir.config_parameter"]
    before = {key: parameters.get_param(key) for key in SETTINGS}
    for key, value in SETTINGS.items():
        parameters.set_param(key, value)
    ids = {}
    for username in ("lockout.check", "lockout.other"):
        partner = env["res.partner"].search([("username", "=", username)])
        partner = partner or env["res.partner"].create(
            {
                "name": username.title(),
                "email": f"{username}@example.test",
                "username": username,
                "allow_login": True,
            }
        )
        env["partner.login.credential"]._issue(partner)
        partner.website_user_id.password = PASSWORD
        ids[username] = (partner.id, partner.website_user_id.id)
    return ids, before


def restore(env, before):
    for key, value in before.items():
        env["ir.config_parameter"].set_param(key, value)  # False deletes it


def authenticate(url, db, password, login="lockout.check"):
    """(whether /web/session/authenticate let it in, seconds it took)."""
    started = time.perf_counter()
    answer = requests.post(
        f"{url}/web/session/authenticate",
        json={
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"db": db, "login": login, "password": password},
        },
        timeout=60,
    ).json()
    return "error" not in answer, time.perf_counter() - started


def logs_in(url, db, password, login="lockout.check"):
    return authenticate(url, db, password, login)[0]


def rpc_works(url, db, uid, password):
    try:
        xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/object").execute_kw(
            db, uid, password, "res.partner", "search", [[]], {"limit": 1}
        )
    except xmlrpc.client.Fault:
        return False
    return True


def forget(db, user_id):
    in_database(db, lambda env: env["res.users.login.lockout"]._forget([user_id]))


def failures_counted(db, user_id, scope="login"):
    def read(env):
        env.cr.execute(
            "SELECT failures FROM res_users_login_lockout "
            "WHERE user_id = %s AND scope = %s",
            [user_id, scope],
        )
        row = env.cr.fetchone()
        return row[0] if row else 0

    return in_database(db, read)


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
    ids, before = in_database(db, prepare)
    (partner_id, user_id), (_other_partner, other_user) = (
        ids["lockout.check"],
        ids["lockout.other"],
    )
    try:
        servers = [start_server(db, addons_path, log_path) for _server in range(2)]
        (_first, url_a), (_second, url_b) = servers
        urls = (url_a, url_b)
        for attempt in range(FAILURES):  # A, B, A, B, ...
            logs_in(urls[attempt % 2], db, "wrong-guess")
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
            logs_in(urls[attempt % 2], db, "wrong-guess")
        check(logs_in(url_a, db, PASSWORD), "a success before the limit...")
        for attempt in range(FAILURES - 1):
            logs_in(urls[attempt % 2], db, "wrong-guess")
        check(logs_in(url_b, db, PASSWORD), "... starts the count again")

        forget(db, user_id)
        with ThreadPoolExecutor(SIMULTANEOUS) as pool:
            list(
                pool.map(
                    lambda index: logs_in(urls[index % 2], db, "wrong-guess"),
                    range(SIMULTANEOUS),
                )
            )
        counted = failures_counted(db, user_id)
        check(
            counted == FAILURES and not logs_in(url_a, db, PASSWORD),
            f"{SIMULTANEOUS} simultaneous guesses on two servers: {counted} checked "
            f"(the setting allows {FAILURES}), the account locked",
        )

        forget(db, user_id)
        for attempt in range(FAILURES + 2):  # by user id, the password unknown
            rpc_works(urls[attempt % 2], db, user_id, "wrong-guess")
        check(
            not rpc_works(url_a, db, user_id, PASSWORD),
            "wrong passwords over XML-RPC by user id lock RPC for the account...",
        )
        check(
            logs_in(url_b, db, PASSWORD),
            "... and not its login page: the owner still logs in",
        )

        forget(db, user_id)
        authenticate(url_a, db, "warm-up", "nobody.here")  # the decoy hash is made
        for _attempt in range(FAILURES):
            logs_in(url_a, db, "wrong-guess")
        samples = {"locked, right password": [], "wrong password": [], "unknown": []}
        for _sample in range(TIMING_SAMPLES):  # interleaved: the same machine load
            samples["locked, right password"].append(
                authenticate(url_a, db, PASSWORD)[1]
            )
            samples["wrong password"].append(
                authenticate(url_a, db, "wrong-guess", "lockout.other")[1]
            )
            samples["unknown"].append(
                authenticate(url_a, db, PASSWORD, "nobody.here")[1]
            )
            forget(db, other_user)  # the wrong password's account must stay open
        medians = {name: statistics.median(times) for name, times in samples.items()}
        print(
            "  timing, medians of "
            f"{TIMING_SAMPLES} interleaved samples each: "
            + ", ".join(
                f"{name} {seconds * 1000:.0f} ms" for name, seconds in medians.items()
            )
        )
        locked = medians["locked, right password"]
        check(
            all(0.8 < locked / other < 1.25 for other in medians.values()),
            "a locked account refuses its right password in the time of a wrong one",
        )
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
