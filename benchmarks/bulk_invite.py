#!/usr/bin/env python3
"""Benchmark: "Send Bulk Website Invite", delivered, beside Odoo's portal wizard.

Run by hand (never by the tests), on a machine with Odoo 18 and PostgreSQL:

    python3 benchmarks/bulk_invite.py                 # N = 1,000 and 10,000
    python3 benchmarks/bulk_invite.py --sizes 2000 --wizard-sample 20

For each N it builds a throwaway database with N eligible contacts and a local SMTP
sink as its outgoing mail server, then:

1. End to end, as an administrator meets it: a real Odoo server with stock settings
   (threaded, one cron thread, --limit-time-real 120 s) is started; "Run Manually"
   is pressed over JSON-RPC; the clock stops when the sink has accepted the last
   invite. It prints the time, invites/s, the longest cron pass and step of the
   worker job, any "virtual real time limit" or reload in the server log, and the
   server's peak memory.
2. In process, on a second set of N contacts, the same run step by step, for SQL
   queries per contact.
3. Odoo's portal.wizard "Grant access" over JSON-RPC in one browser session (as the
   web client calls it), on a sample of other contacts, and the ratio per contact.
"""

import argparse
import logging
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
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
    """An SMTP server that accepts and counts every message."""

    def __init__(self):
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 OK"


def addons_path(link_dir):
    root = Path(odoo.release.__file__).resolve().parent.parent
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


def bench_size(size, sample, path, keep):
    db = f"{ADDON}_bench_{size}_{os.getpid()}"
    drop_database(db)
    create_database(db, path)
    sink = CountingSink()
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
                }
            )
            env.company.partner_id.email = "noreply@ourcompany.test"
            print(f"  creating {size} eligible contacts ...", flush=True)
            make_contacts(env, size, "Bulk", website_enabled=True)
            sample_ids = make_contacts(env, sample, "Wizard", False).ids
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
            while sink.count < size and time.perf_counter() - started < 900:
                time.sleep(0.05)
            delivered_seconds = time.perf_counter() - started
        delivered = sink.count

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
        default=20,
        help="contacts given portal access by portal.wizard (default 50)",
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
        results = []
        for size in (int(value) for value in args.sizes.split(",")):
            print(f"N = {size}", flush=True)
            results.append(bench_size(size, args.wizard_sample, path, args.keep_db))
            for key, value in results[-1].items():
                print(f"  {key:24} {value}", flush=True)
    print(
        f"\n{os.cpu_count()} cores; targets: N=10,000 delivered in <= 120 s, longest "
        "cron pass <= 30 s, no time limit warning, queries per contact flat in N"
    )


if __name__ == "__main__":
    main()
