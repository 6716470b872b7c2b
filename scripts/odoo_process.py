# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Shared by the scripts and benchmarks that drive a real Odoo beside the tests: a
free port, an Odoo server process with Odoo's default limits, a committed
transaction, a login."""

import importlib
import socket
import subprocess
import sys
import time

import requests

import odoo
from odoo.exceptions import AccessDenied
from odoo.modules.registry import Registry


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(db, addons_path, log_path):
    """odoo-bin on ``db`` (threaded, one cron thread, every other setting Odoo's
    default), its log in ``log_path``: (process, base URL), once it answers."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "odoo",
            "-d",
            db,
            f"--db-filter=^{db}$",
            f"--addons-path={addons_path}",
            "--http-interface=127.0.0.1",
            f"--http-port={port}",
            "--max-cron-threads=1",
            f"--logfile={log_path}",
        ]
    )
    url = f"http://127.0.0.1:{port}"
    for _attempt in range(240):
        try:
            requests.get(f"{url}/web/login", timeout=5)
            return process, url
        except requests.ConnectionError:
            time.sleep(0.5)
    process.kill()
    sys.exit(f"ERROR: the Odoo server did not start (log: {log_path})")


def in_database(db, function):
    """``function(env)`` as the superuser, in one committed transaction."""
    with Registry(db).cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        result = function(env)
        # the commit flushes the environments still alive only: keep this one
        env.flush_all()
        return result


def logs_in(db, login, password, interactive=True):
    """Whether Odoo's login accepts the pair (a browser's when ``interactive``)."""
    # the addon's own series differences (importable once Odoo's addons path is set)
    compat = importlib.import_module("odoo.addons.partner_website_login.compat")
    try:
        with Registry(db).cursor() as cr:
            compat.authenticate(
                odoo.api.Environment(cr, odoo.SUPERUSER_ID, {}),
                {"type": "password", "login": login, "password": password},
                {"interactive": interactive},
            )
    except AccessDenied:
        return False
    return True
