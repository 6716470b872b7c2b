#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Install the addon as a plain Odoo (this Python's series) would and fail on any
WARNING or ERROR.

"Plain" means: every Python package installed here that Odoo's own requirements do
not bring (the test tools, a machine's extras such as Pygments) is hidden from the
Odoo process, so an optional import the addon or its README would need shows up
as it would on a user's server. Installs into a fresh database, then drops it.

Usage: scripts/check_plain_install.py ADDONS_PATH
"""

import importlib.metadata
import os
import re
import subprocess
import sys
import tempfile

import psycopg2
from pip._vendor.packaging.markers import Marker  # pip is in every venv

import odoo.release

ADDON = "partner_website_login"
PROBLEM = re.compile(r"^\S+ \S+ \d+ (WARNING|ERROR|CRITICAL) ")
# the installers themselves, which Odoo neither needs nor imports
ALWAYS_THERE = {"pip", "setuptools", "wheel", "odoo"}

# Run in the Odoo process before Odoo: refuses to import the hidden packages.
HIDE_AND_RUN = """
import importlib.abc, sys
HIDDEN = set(sys.argv.pop(1).split(","))
class Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in HIDDEN:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Hide())
import odoo.cli
odoo.cli.main()
"""


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_names(lines):
    """Names of the requirements whose environment markers hold here."""
    for line in lines:
        line = line.split("#")[0].strip()
        match = re.match(r"([A-Za-z0-9][A-Za-z0-9_.-]*)", line)
        if not match or line.startswith("-"):
            continue
        marker = line.partition(";")[2].strip()
        if " extra " in f" {marker} " or (marker and not Marker(marker).evaluate()):
            continue
        yield canonical(match.group(1))


def odoo_requirements():
    # odoo.release: 19.0's odoo is a namespace package, without __file__
    source = os.path.dirname(os.path.dirname(odoo.release.__file__))
    path = os.path.join(source, "requirements.txt")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as lines:
            return set(requirement_names(lines))
    return set(requirement_names(importlib.metadata.requires("odoo") or []))


def hidden_modules():
    installed = {
        canonical(dist.metadata["Name"]): dist
        for dist in importlib.metadata.distributions()
    }
    needed, todo = set(), list(odoo_requirements() | ALWAYS_THERE)
    while todo:  # Odoo's requirements and everything they require in turn
        name = todo.pop()
        if name in needed or name not in installed:
            continue
        needed.add(name)
        todo.extend(requirement_names(installed[name].requires or []))
    modules = set()
    for name, dist in installed.items():
        if name in needed:
            continue
        top_level = dist.read_text("top_level.txt")
        if top_level:
            modules.update(top_level.split())
        else:
            modules.update(
                str(file).split("/")[0].removesuffix(".py")
                for file in dist.files or ()
                if not str(file).startswith(("..", "__"))
                and ".dist-info" not in str(file)
                and ".data" not in str(file).split("/")[0]
            )
    return {module for module in modules if module.isidentifier()} - {"odoo"}


def main(addons_path):
    hidden = hidden_modules()
    db = f"{ADDON}_plain_{os.getpid()}"
    print(
        f"  hiding {len(hidden)} packages Odoo does not require: "
        f"{', '.join(sorted(hidden)[:12])}{' ...' if len(hidden) > 12 else ''}"
    )
    with tempfile.NamedTemporaryFile("r", suffix=".log") as log:
        try:
            result = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    HIDE_AND_RUN,
                    ",".join(sorted(hidden)),
                    "-d",
                    db,
                    "-i",
                    ADDON,
                    f"--addons-path={addons_path}",
                    "--stop-after-init",
                    "--no-http",
                    "--log-level=warn",
                    f"--logfile={log.name}",
                ],
                check=False,
            )
            problems = [line for line in log.read().splitlines() if PROBLEM.match(line)]
        finally:
            conn = psycopg2.connect(dbname="postgres")
            conn.autocommit = True
            conn.cursor().execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            conn.close()
    for line in problems:
        print(f"  {line}")
    if result.returncode or problems:
        print(f"  FAIL installing {ADDON} on a plain Odoo logged the lines above")
        return 1
    print(f"  ok   installing {ADDON} on a plain Odoo logs no WARNING and no ERROR")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
