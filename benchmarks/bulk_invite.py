#!/usr/bin/env python3
"""Benchmark: "Send Bulk Website Invite", delivered, beside Odoo's portal wizard,
against an SMTP server that takes anything and one that enforces a provider's rate.

Run by hand (never by the tests), on a machine with Odoo 18 and PostgreSQL:

    python3 benchmarks/bulk_invite.py     # figures a to d (benchmarks/README.md)
    python3 benchmarks/bulk_invite.py --plan a --sizes 2000 --wizard-sample 20

Each figure builds a throwaway database with N eligible contacts and a local SMTP
server as its outgoing mail server, starts a real Odoo server with stock settings
(threaded, one cron thread, --limit-time-real 120 s), presses "Run Manually" over
JSON-RPC and stops the clock when the SMTP server has accepted the last invite:

a. no limit, N = 10,000 (and 1,000): time, invites/s, the longest cron pass and
   step of the worker job, "virtual real time limit" or reloads in the server log,
   the server's peak memory; in process, on a second set of N contacts, SQL queries
   per contact; Odoo's portal.wizard "Grant access" over JSON-RPC on a sample, per
   contact; and the SMTP server's own limit, one plain SMTP session sending as fast
   as it can, beside it;
b. a provider that takes 50 mails a second (a bucket of 50, answering 454 past it,
   as Amazon SES does), 5,000 contacts, the rate set on the mail server: all
   delivered, none failed, against the provider's floor (N / 50 s);
c. the same provider with no rate set: the run finds the pace itself;
d. no limit, N = 100,000: queries per contact against a's, memory, longest pass.
"""

import argparse
import logging
import os
import re
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
from email.message import EmailMessage
from pathlib import Path

ADDON = "partner_website_login"
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))


def fail(message):
    sys.exit(f"ERROR: {message}")


try:
    import psutil  # an Odoo requirement, like psycopg2
    import psycopg2
    import requests

    import odoo
    from odoo.modules.registry import Registry
    from odoo.tools import config
except ImportError:
    fail("python3 cannot import Odoo: install Odoo 18.0 into this python3 first.")
try:
    from aiosmtpd.controller import Controller
except ImportError:
    fail("aiosmtpd is missing: python3 -m pip install aiosmtpd")
from odoo_process import free_port, start_server  # noqa: E402 (scripts/ on the path)


class CountingSink:
    """An SMTP server that accepts and counts every message; with ``rate``, a
    provider's: a bucket of ``rate`` mails refilled at ``rate`` a second, a 454
    (as Amazon SES answers) past it."""

    def __init__(self, rate=None):
        self.count = 0
        self.rate = rate
        self.tokens = rate or 0
        self.refilled = time.monotonic()
        self.throttled = 0
        self.recipients = set()
        self.duplicates = 0
        self.first_message = None  # an invite as sent, to time the server with

    async def handle_DATA(self, server, session, envelope):
        if self.rate:
            now = time.monotonic()
            self.tokens = min(
                self.rate, self.tokens + (now - self.refilled) * self.rate
            )
            self.refilled = now
            if self.tokens < 1:
                self.throttled += 1
                return "454 4.7.0 Throttling failure: Maximum sending rate exceeded."
            self.tokens -= 1
        for address in envelope.rcpt_tos:
            self.duplicates += address in self.recipients
            self.recipients.add(address)
        self.count += 1
        if self.first_message is None:
            self.first_message = envelope.original_content or envelope.content
        return "250 OK"


def smtp_limit(messages=3000, content=None):
    """Mails a second the local SMTP server takes from one plain session: with
    ``content`` (an invite as the run sent it), else a 3,000-character mail; the
    ceiling beside the end-to-end figures."""
    sink = CountingSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    message = EmailMessage()
    message["From"], message["To"] = "a@ourcompany.test", "b@customer.test"
    message["Subject"] = "Welcome"
    message.set_content("x" * 3000, subtype="html")
    try:
        with smtplib.SMTP("127.0.0.1", controller.port) as session:
            started = time.perf_counter()
            for _index in range(messages):
                if content is None:
                    session.send_message(message)
                else:
                    session.sendmail("a@ourcompany.test", ["b@customer.test"], content)
            return messages / (time.perf_counter() - started)
    finally:
        controller.stop()


def addons_path(link_dir):
    """Odoo's addons and the addon for the series this python runs: the checkout
    itself for the root's series, else the tree scripts/make_series.py makes."""
    root = Path(odoo.release.__file__).resolve().parent.parent
    series = odoo.release.serie
    manifest = (REPO / "__manifest__.py").read_text()
    if f'"version": "{series}.' in manifest:
        (Path(link_dir) / ADDON).symlink_to(REPO)
    else:
        subprocess.run(
            [
                sys.executable,
                str(REPO / "scripts" / "make_series.py"),
                series,
                str(Path(link_dir) / ADDON),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return ",".join([str(root / "addons"), str(root / "odoo" / "addons"), link_dir])


def create_database(db, path):
    print(f"  installing {ADDON} into {db} ...", flush=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "odoo",
            "-d",
            db,
            f"--addons-path={path}",
            "-i",
            ADDON,
            # 19.0 installs no demo data unless asked, and takes no "all"
            *(["--without-demo=all"] if odoo.release.version_info[0] < 19 else []),
            "--stop-after-init",
            "--log-level=warn",
        ],
        check=True,
    )


def autovacuum():
    """on or off: with it off (as on some test machines), the planner's statistics
    of a freshly filled table stay those of an empty one."""
    conn = psycopg2.connect(dbname="postgres")
    try:
        with conn.cursor() as cr:
            cr.execute("SHOW autovacuum")
            return cr.fetchone()[0]
    finally:
        conn.close()


def drop_database(db):
    conn = psycopg2.connect(dbname="postgres")
    conn.autocommit = True
    conn.cursor().execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    conn.close()


def make_contacts(env, count, prefix, website_enabled):
    """``count`` contacts in count/10 companies (untimed set-up)."""
    partners = env["res.partner"].with_context(
        tracking_disable=True, mail_create_nolog=True
    )
    companies = partners.create(
        [
            {"name": f"{prefix} Company {index}", "is_company": True}
            for index in range(max(count // 10, 1))
        ]
    )
    contacts = partners.create(
        [
            {
                "name": f"{prefix} Contact {index}",
                "parent_id": companies[index % len(companies)].id,
                "email": f"{prefix.lower()}.{index}@customer.test",
                "username": f"{prefix.lower()}.{index}",
                "website_enabled": website_enabled,
                "allow_login": True,
            }
            for index in range(count)
        ]
    )
    env.cr.commit()
    return contacts


def measure(callable_):
    """(seconds, SQL queries) of ``callable_()``, all cursors of this process."""
    queries_before = odoo.sql_db.sql_counter
    started = time.perf_counter()
    callable_()
    return time.perf_counter() - started, odoo.sql_db.sql_counter - queries_before


class PeakMemory:
    """Samples this process's resident memory every 20 ms while in the block."""

    def __init__(self):
        self.process = psutil.Process()
        self.start = self.peak = self.process.memory_info().rss
        self.running = threading.Event()

    def _sample(self):
        while self.running.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.02)

    def __enter__(self):
        self.running.set()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.running.clear()
        self.thread.join()


def run_bulk_invite(registry):
    """Opens a run, then does its steps as the worker job does, until done."""
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        env["res.partner"]._cron_send_bulk_website_invite()
    steps = 0
    while True:
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            run = env["partner.invite.run"].search([], limit=1)
            if run.state == "done":
                return run.read(["eligible_count", "invited_count", "failed_count"])[
                    0
                ], steps
            env["partner.invite.run"]._cron_process_batch()
            steps += 1


def stop(server):
    server.terminate()
    server.wait(30)


class JsonRpcSession:
    """What a browser does: one session, JSON-RPC to /web/dataset/call_kw."""

    def __init__(self, url, db, login, password):
        self.url = url
        self.http = requests.Session()
        self.call("/web/session/authenticate", db=db, login=login, password=password)

    def call(self, route, **params):
        response = self.http.post(
            self.url + route,
            json={"jsonrpc": "2.0", "method": "call", "params": params},
            timeout=600,
        ).json()
        if "error" in response:
            fail(f"{route}: {response['error']['data']['message']}")
        return response["result"]

    def call_kw(self, model, method, args, kwargs=None):
        return self.call(
            f"/web/dataset/call_kw/{model}/{method}",
            model=model,
            method=method,
            args=args,
            kwargs=kwargs or {},
        )


class PeakMemoryOf(PeakMemory):
    def __init__(self, pid):
        super().__init__()
        self.process = psutil.Process(pid)
        self.start = self.peak = self.process.memory_info().rss


CRON_LINE = re.compile(
    r"^(\S+ \S+) .*Job 'Website Login: process bulk invite batches' \(\d+\) "
    r"(starting|done in ([\d.]+)s|completed)"
)


def cron_passes(log_path):
    """(longest pass, longest step, steps) of the worker job, from the server log:
    a pass of Odoo's cron worker runs up to 10 steps of a job that reports progress,
    and ends early when the job is completed."""
    steps, passes, current = [], [], []
    with open(log_path, encoding="utf-8", errors="replace") as log:
        for line in log:
            match = CRON_LINE.match(line)
            if not match:
                continue
            if match.group(3):
                steps.append(float(match.group(3)))
                current.append(float(match.group(3)))
            if match.group(2) == "completed" or len(current) == 10:
                passes.append(sum(current))
                current = []
    passes.append(sum(current))
    return max(passes), max(steps or [0]), len(steps)


def log_problems(log_path):
    with open(log_path, encoding="utf-8", errors="replace") as log:
        text = log.read()
    return {
        "time limit warnings": text.count("virtual real time limit"),
        "server reloads": text.count("Initiating server reload"),
        "WARNING/ERROR lines": len(
            re.findall(r"^\S+ \S+ \d+ (?:WARNING|ERROR)", text, re.M)
        ),
    }


def bench_size(
    size, sample, path, keep, provider_rate=None, rate_set=False, layout=True
):
    """One figure: N contacts to the end, and (sample > 0) the in-process queries
    per contact and Odoo's wizard beside it."""
    db = f"{ADDON}_bench_{size}_{os.getpid()}"
    drop_database(db)
    create_database(db, path)
    sink = CountingSink(provider_rate)
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    log_path = tempfile.mktemp(prefix=f"{db}-", suffix=".log")
    server = None
    try:
        config["db_name"] = [db] if odoo.release.version_info[0] >= 19 else db
        registry = Registry(db)
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            env["ir.mail_server"].create(
                {
                    "name": "benchmark sink",
                    "smtp_host": "127.0.0.1",
                    "smtp_port": controller.port,
                    "smtp_encryption": "none",
                    "send_rate_per_minute": provider_rate * 60 if rate_set else 0,
                }
            )
            env.company.partner_id.email = "noreply@ourcompany.test"
            if not layout:  # the mail of before the newcomer's walk, as an admin can
                env.ref(
                    f"{ADDON}.mail_template_website_invite"
                ).email_layout_xmlid = False
            print(f"  creating {size} eligible contacts ...", flush=True)
            make_contacts(env, size, "Bulk", website_enabled=True)
            sample_ids = make_contacts(env, sample, "Wizard", False).ids
            # the planner's statistics of the filled tables, as a database in use has
            # them (autovacuum, PostgreSQL's default, may be off on a test machine)
            env.cr.execute("ANALYZE")
            env.cr.commit()
        Registry.delete(db)

        # 1. end to end on a real server, stock settings
        server, url = start_server(db, path, log_path)
        admin = JsonRpcSession(url, db, "admin", "admin")
        cron_id = admin.call_kw(
            "ir.model.data",
            "search_read",
            [
                [
                    ("module", "=", ADDON),
                    ("name", "=", "ir_cron_send_bulk_website_invite"),
                ]
            ],
            {"fields": ["res_id"]},
        )[0]["res_id"]
        with PeakMemoryOf(server.pid) as memory:
            started = time.perf_counter()
            admin.call_kw("ir.cron", "method_direct_trigger", [[cron_id]])
            # gives up well past any expected time (100,000 at 20 mails/s)
            patience = 900 + size / 20
            while sink.count < size and time.perf_counter() - started < patience:
                time.sleep(0.05)
            delivered_seconds = time.perf_counter() - started
        invite_bytes = sink.first_message or b""
        # the same local server's own limit, for the invite as the run sent it
        invite_limit = smtp_limit(1000, invite_bytes) if invite_bytes else 0
        delivered = sink.count
        failed = admin.call_kw(
            "partner.invite.run.line", "search_count", [[("outcome", "=", "failed")]]
        )
        if not sample:
            stop(server)
            server = None
            longest_pass, longest_step, steps = cron_passes(log_path)
            return {
                "N": size,
                "provider": f"{provider_rate}/s, 454 past it" if provider_rate else "-",
                "rate set on the server": rate_set,
                "delivered": delivered,
                "failed": failed,
                "454 answers": sink.throttled,
                "contacts mailed twice": sink.duplicates,
                "Run Manually -> last mail accepted, s": round(delivered_seconds, 1),
                "invite size, bytes": len(invite_bytes),
                "SMTP server's own limit for it, mails/s": round(invite_limit),
                "provider's floor, s": round(size / provider_rate, 1)
                if provider_rate
                else "-",
                "x the floor": round(delivered_seconds * provider_rate / size, 2)
                if provider_rate
                else "-",
                "longest cron pass, s": round(longest_pass, 1),
                **log_problems(log_path),
                "server peak RSS MiB": round(memory.peak / 2**20),
            }

        # 3. Odoo's wizard, as the web client drives it
        wizard_started = time.perf_counter()
        wizard_id = admin.call_kw(
            "portal.wizard",
            "create",
            [{}],
            {"context": {"active_ids": sample_ids, "active_model": "res.partner"}},
        )
        lines = admin.call_kw("portal.wizard", "read", [[wizard_id], ["user_ids"]])
        for line_id in lines[0]["user_ids"]:
            admin.call_kw("portal.wizard.user", "action_grant_access", [[line_id]])
        wizard_seconds = time.perf_counter() - wizard_started
        stop(server)
        server = None
        longest_pass, longest_step, steps = cron_passes(log_path)

        # 2. queries per contact, in process, on a second set of contacts
        registry = Registry(db)
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            make_contacts(env, size, "Again", website_enabled=True)
        result = {}

        def invite():
            result["run"], result["steps"] = run_bulk_invite(registry)

        in_process_seconds, queries = measure(invite)
        run = result["run"]
    finally:
        if server:
            stop(server)
        controller.stop()
        Registry.delete(db)
        if not keep:
            drop_database(db)
    wizard_ms = 1000 * wizard_seconds / sample
    per_contact_ms = 1000 * delivered_seconds / max(delivered, 1)
    return {
        "N": size,
        "delivered (end to end)": delivered,
        "Run Manually -> last mail accepted, s": round(delivered_seconds, 1),
        "invites/s end to end": round(delivered / delivered_seconds),
        "invite size, bytes": len(invite_bytes),
        "SMTP server's own limit for it, mails/s": round(invite_limit),
        "worker steps": steps,
        "longest cron pass, s": round(longest_pass, 1),
        "longest step, s": round(longest_step, 2),
        **log_problems(log_path),
        "server RSS before MiB": round(memory.start / 2**20),
        "server peak RSS MiB": round(memory.peak / 2**20),
        "in process: invited": run["invited_count"],
        "in process: seconds": round(in_process_seconds, 1),
        "in process: queries/contact": round(queries / max(run["invited_count"], 1), 2),
        "wizard sample": sample,
        "wizard ms/contact (JSON-RPC)": round(wizard_ms, 1),
        "speed-up per contact": round(wizard_ms / per_contact_ms, 1),
        "server log": log_path,
    }


PLAN = {
    # figure: [(N, provider's rate, rate set on the server, with the wizard and
    # the in-process queries)]
    "a": [(1000, None, False, True), (10000, None, False, True)],
    "b": [(5000, 50, True, False)],
    "c": [(5000, 50, False, False)],
    "d": [(100000, None, False, True)],
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plan", default="a,b,c,d", help="figures to run (a,b,c,d)")
    parser.add_argument(
        "--sizes",
        help="comma-separated numbers of eligible contacts, instead of the plan's",
    )
    parser.add_argument(
        "--wizard-sample",
        type=int,
        default=20,
        help="contacts given portal access by portal.wizard (default 20)",
    )
    parser.add_argument(
        "--without-layout",
        action="store_true",
        help="clear the invite template's notification layout (the lighter mail "
        "sent before the light layout came in: the same mail as older commits)",
    )
    parser.add_argument("--keep-db", action="store_true", help="keep the databases")
    args = parser.parse_args()
    config.parse_config(["--log-level=warn"])
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's chatter
    with tempfile.TemporaryDirectory() as link_dir:
        path = addons_path(link_dir)
        config["addons_path"] = (
            path.split(",") if odoo.release.version_info[0] >= 19 else path
        )
        odoo.modules.module.initialize_sys_path()
        print(f"the local SMTP server's own limit: {smtp_limit():.0f} mails/s")
        print(f"PostgreSQL's autovacuum: {autovacuum()}")
        for figure in args.plan.split(","):
            runs = PLAN[figure]
            if args.sizes:  # each size given once, with the figure's provider
                _size, rate, rate_set, full = runs[-1]
                runs = [
                    (int(size), rate, rate_set, full) for size in args.sizes.split(",")
                ]
            for size, rate, rate_set, full in runs:
                print(f"{figure}. N = {size}", flush=True)
                result = bench_size(
                    size,
                    args.wizard_sample if full else 0,
                    path,
                    args.keep_db,
                    rate,
                    rate_set,
                    layout=not args.without_layout,
                )
                for key, value in result.items():
                    print(f"  {key:38} {value}", flush=True)
    print(
        f"\n{os.cpu_count()} cores; targets: a. no slower than the commit before, "
        "interleaved on this machine (benchmarks/README.md); b. within 1.15x the "
        "floor, c. within 2x, none failed; d. queries per contact as a's, no cron "
        "pass over 30 s"
    )


if __name__ == "__main__":
    main()
