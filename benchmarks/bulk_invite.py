#!/usr/bin/env python3
"""Benchmark of "Send Bulk Website Invite" against Odoo's "Grant portal access".

Run by hand (never by the tests), on a machine with Odoo 18 and PostgreSQL:

    python3 benchmarks/bulk_invite.py                 # N = 1,000 and 10,000
    python3 benchmarks/bulk_invite.py --sizes 2000 --wizard-sample 20

For each N it builds a throwaway database with N eligible contacts in N/10
customer companies, runs the bulk invite to the end (portal users created,
temporary passwords issued, invite mails queued) the way the worker job does, one
committed batch at a time, and prints contacts per second, SQL queries per contact
and the process's peak memory. In the same run it times Odoo's own portal.wizard
"Grant access" (which sends each mail at once) on a sample of other contacts of
the same database, with a local SMTP sink, and prints the ratio per contact.
"""

import argparse
import logging
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ADDON = "partner_website_login"
REPO = Path(__file__).resolve().parent.parent


def fail(message):
    sys.exit(f"ERROR: {message}")


try:
    import psutil  # an Odoo requirement, like psycopg2
    import psycopg2

    import odoo
    from odoo.modules.registry import Registry
    from odoo.tools import config
except ImportError:
    fail("python3 cannot import Odoo: install Odoo 18.0 into this python3 first.")
try:
    from aiosmtpd.controller import Controller
except ImportError:
    fail("aiosmtpd is missing: python3 -m pip install aiosmtpd")


class CountingSink:
    """An SMTP server that accepts and counts every message."""

    def __init__(self):
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 OK"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def addons_path(link_dir):
    root = Path(odoo.__file__).resolve().parent.parent
    (Path(link_dir) / ADDON).symlink_to(REPO)
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
            "--without-demo=all",
            "--stop-after-init",
            "--log-level=warn",
        ],
        check=True,
    )


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
    """Opens a run, then does its batches as the worker job does: one committed
    transaction each, until the run is done."""
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        env["res.partner"]._cron_send_bulk_website_invite()
    batches = 0
    while True:
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            run = env["website.invite.run"].search([], limit=1)
            if run.state == "done":
                return run.read(["eligible_count", "invited_count", "failed_count"])[
                    0
                ], batches
            env["website.invite.run"]._cron_process_batch()
            batches += 1


def grant_portal_access(registry, partner_ids):
    """Odoo's own path: portal.wizard, "Grant Access" contact by contact."""
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        wizard = env["portal.wizard"].with_context(active_ids=partner_ids).create({})
        for wizard_user in wizard.user_ids:
            wizard_user.action_grant_access()


def bench_size(size, sample, path, keep):
    db = f"{ADDON}_bench_{size}_{os.getpid()}"
    drop_database(db)
    create_database(db, path)
    sink = CountingSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        config["db_name"] = db
        registry = Registry(db)
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            env["ir.mail_server"].create(
                {
                    "name": "benchmark sink",
                    "smtp_host": "127.0.0.1",
                    "smtp_port": controller.port,
                    "smtp_encryption": "none",
                }
            )
            env.company.partner_id.email = "noreply@ourcompany.test"
            print(f"  creating {size} eligible contacts ...", flush=True)
            make_contacts(env, size, "Bulk", website_enabled=True)
            sample_ids = make_contacts(env, sample, "Wizard", False).ids
        result = {}

        def invite():
            result["run"], result["batches"] = run_bulk_invite(registry)

        with PeakMemory() as memory:
            seconds, queries = measure(invite)
        run = result["run"]
        with registry.cursor() as cr:
            cr.execute(
                "SELECT count(*) FROM mail_mail JOIN mail_message m "
                "ON m.id = mail_message_id WHERE m.subject LIKE 'Welcome to the %%'"
            )
            queued = cr.fetchone()[0]
        wizard_seconds, wizard_queries = measure(
            lambda: grant_portal_access(registry, sample_ids)
        )
    finally:
        controller.stop()
        Registry.delete(db)
        if not keep:
            drop_database(db)
    invited = run["invited_count"]
    per_contact_ms = 1000 * seconds / max(invited, 1)
    wizard_ms = 1000 * wizard_seconds / sample
    return {
        "N": size,
        "eligible": run["eligible_count"],
        "invited": invited,
        "failed": run["failed_count"],
        "mails queued": queued,
        "batches": result["batches"],
        "seconds": round(seconds, 1),
        "contacts/s": round(invited / seconds),
        "ms/contact": round(per_contact_ms, 2),
        "queries/contact": round(queries / max(invited, 1), 2),
        "RSS before MiB": round(memory.start / 2**20),
        "peak RSS MiB": round(memory.peak / 2**20),
        "wizard sample": sample,
        "wizard mails delivered": sink.count,
        "wizard ms/contact": round(wizard_ms, 1),
        "wizard queries/contact": round(wizard_queries / sample, 1),
        "speed-up per contact": round(wizard_ms / per_contact_ms, 1),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default="1000,10000",
        help="comma-separated numbers of eligible contacts (default 1000,10000)",
    )
    parser.add_argument(
        "--wizard-sample",
        type=int,
        default=50,
        help="contacts given portal access by portal.wizard (default 50)",
    )
    parser.add_argument("--keep-db", action="store_true", help="keep the databases")
    args = parser.parse_args()
    config.parse_config(["--log-level=warn"])
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's chatter
    with tempfile.TemporaryDirectory() as link_dir:
        path = addons_path(link_dir)
        config["addons_path"] = path
        odoo.modules.module.initialize_sys_path()
        results = []
        for size in (int(value) for value in args.sizes.split(",")):
            print(f"N = {size}", flush=True)
            results.append(bench_size(size, args.wizard_sample, path, args.keep_db))
            for key, value in results[-1].items():
                print(f"  {key:24} {value}", flush=True)
    print(
        f"\n{os.cpu_count()} cores; targets: N=10,000 in < 60 s, <= 10 queries per "
        "contact whatever N, >= 20 x faster per contact than portal.wizard"
    )


if __name__ == "__main__":
    main()
