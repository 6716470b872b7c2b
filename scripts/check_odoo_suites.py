#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Run a chosen set of Odoo's own tests once without the addon and once with it, and
fail on any test that fails only with the addon.

Both databases get the same Odoo modules (those the chosen tests belong to, and the
addon's dependencies); the second one then gets the addon, as on a server where it
is added later. Every chosen test, Odoo's at_install tests included, runs only once
all modules are installed: run at install, an at_install test of a module the addon
does not depend on would run before the addon is loaded and never meet it.

Prints the tests run in each database, the tests that fail without the addon too
(Odoo's or the environment's: listed, not counted against the addon) and the tests
that fail only with it. Exit code 0 only if none fails only with the addon, each
run finished, and each chosen entry ran at least one test in each database.

Usage: scripts/check_odoo_suites.py ADDONS_PATH [LOG_DIR]
"""

import ast
import collections
import itertools
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import psycopg2
from odoo_process import free_port

import odoo.release

ADDON = "partner_website_login"
SERIES = odoo.release.version_info[0]

# The chosen tests, one a line: the series that run it, the test in Odoo's test-tag
# syntax (/module:Class[.method]), why. Browser tours cost half a minute each: only
# those of the paths the addon changes.
SUITES = """
18 19  /auth_signup                         sign-up, invitation, reset password
18 19  /web:TestWebLogin                    the /web/login form (the login gate)
18 19  /portal:TestWebLoginPortal           a portal user logging in at /web/login
18 19  /auth_totp:TestTOTP.test_totp        two-step login at /web/login/totp (tour)
18 19  /auth_totp:TestTOTP.test_totp_authenticate  a two-step user over RPC (tour)
18 19  /auth_totp_portal:TestTOTPortal      a portal user's two-step login (tour)
   19  /auth_totp_mail:TestAuthSignupFlowWith2faEnforced  sign-up, e-mail codes on
   19  /auth_passkey:PasskeyTest            passkey sign-in (no browser)
   19  /auth_passkey_portal:PasskeyTestPortal  a portal user's passkeys (tours)
18     /base:TestXMLRPC                     XML-RPC logins (the credential check)
18     /base:TestAPIKeys                    API keys over XML-RPC
   19  /rpc:TestXMLRPC                      XML-RPC logins (the credential check)
   19  /rpc:TestAPIKeys                     API keys over XML-RPC
18 19  /base:TestUsers                      creating and writing users, logins
18 19  /base:TestUsers2                     user types and groups (Allow Login)
18 19  /base:TestHasGroup                   one user type per user
18 19  /base:TestPartner                    contacts, which the addon extends
18 19  /base:TestORM                        the ORM on partners and users
   19  /base:TestQwebFieldMany2Many         rendering the public user's records
18 19  /portal:TestPortalWizard             granting portal access (the wizard)
18 19  /portal:TestUsersHttp                a portal user closing their account
18 19  /portal:TestUi.test_01_portal_load_tour  /my, where the addon adds a card
18 19  /website:TestGetBaseUrl              a website per company, its public user
18 19  /website:TestWebsiteResUsers         logins per website
18 19  /website:TestAuthSignupUninvited     a website's free sign-up
18 19  /website:TestWebsiteResetPassword    reset password per website (tour)
18 19  /website:TestPortalWizardMultiWebsites  portal access with websites
18 19  /website:Crawler.test_20_crawl_demo  every link a portal user sees
18 19  /base:TestIrMailServer               outgoing servers, which the addon extends
18 19  /mail:TestIrMailServer               the outgoing server of each mail
18 19  /mail:TestMailTemplate               templates and rendering (extended)
18 19  /test_mail:TestMailgateway           incoming mail and bounces (hooked)
18 19  /mail:TestChannelInternals           channels with public and portal users
18 19  /mail:TestDiscussChannelMember       channel members, public users
18 19  /mail:TestDiscussChannelAccess       channel access per user type
   19  /mail:TestMailPresence.test_presence_access  presence over websocket
   19  /mail:TestIrWebsocket.test_notify_on_status_change  a login over websocket
"""

TAG = re.compile(r"^/(\w+)(?::(\w+)(?:\.(\w+))?)?$")
LINE = re.compile(r"^\S+ \S+ \d+ (\w+) \S+ (\S+): (.*)$")
TEST_MODULE = re.compile(r"^odoo\.addons\.(\w+)\.tests\b")
FIXTURE = re.compile(r"^(\w+) \(odoo\.addons\.(\w+)\.tests\.\S*\.(\w+)\)$")
NAMES = ("without", "with")
SUMMARY = re.compile(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests when loading")

# Run in the Odoo process before Odoo: every chosen test, at_install or
# post_install, runs after the registry is loaded with all installed modules.
EVERY_TEST_AFTER_INSTALL = """
import odoo.tests.loader as loader
make_suite = loader.make_suite
def make_suite_after_install(module_names, position="at_install"):
    if position == "at_install":
        return make_suite([], position)
    return make_suite(module_names, "at_install,post_install")
loader.make_suite = make_suite_after_install
import odoo.cli
odoo.cli.main()
"""


class Clock:
    """Wall time, and the CPU time of the processes run (Odoo, Chromium): on a
    machine shared with other work, the CPU time is what the check costs."""

    def __init__(self):
        self.wall, self.cpu = time.monotonic(), self._cpu()

    @staticmethod
    def _cpu():
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    def __str__(self):
        return (
            f"{time.monotonic() - self.wall:.0f} s "
            f"({self._cpu() - self.cpu:.0f} s of CPU)"
        )


def chosen():
    """(tag, why) of this series' tests."""
    entries = []
    for line in SUITES.strip().splitlines():
        words = line.split()
        series = list(itertools.takewhile(str.isdigit, words))
        tag, *why = words[len(series) :]
        if str(SERIES) in series:
            entries.append((tag, " ".join(why)))
    return entries


def modules_to_install(addons_path):
    """The modules of the chosen tests, and the addon's dependencies (the database
    without the addon gets them too)."""
    modules = {TAG.match(tag).group(1) for tag, _why in chosen()}
    for folder in addons_path.split(","):
        manifest = os.path.join(folder, ADDON, "__manifest__.py")
        if os.path.exists(manifest):
            with open(manifest, encoding="utf-8") as source:
                modules.update(ast.literal_eval(source.read())["depends"])
            break
    return sorted(modules - {"base"})


def postgres(statement):
    conn = psycopg2.connect(dbname="postgres")
    conn.autocommit = True
    try:
        conn.cursor().execute(statement)
    finally:
        conn.close()


def not_installed(db, modules):
    conn = psycopg2.connect(dbname=db)
    try:
        cr = conn.cursor()
        cr.execute(
            "SELECT name FROM ir_module_module"
            " WHERE state = 'installed' AND name IN %s",
            (tuple(modules),),
        )
        return sorted(set(modules) - {name for (name,) in cr.fetchall()})
    finally:
        conn.close()


def odoo(args, log_path, prelude=None):
    """Odoo's server command (after ``prelude``, Python run first), started, its
    log in ``log_path``."""
    command = [sys.executable, "-m", "odoo", *args]
    if prelude:
        command = [sys.executable, "-c", prelude, *args]
    with open(log_path, "w", encoding="utf-8") as log:
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)


def finished(process, timeout):
    """The exit code of ``process``, or None (killed) if it ran past ``timeout``."""
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return None


def install(db, modules, common, log_path):
    """Installs ``modules`` into ``db`` (no test); an error message, or None."""
    code = finished(
        odoo(
            [*common, "-d", db, "-i", ",".join(modules), "--stop-after-init"]
            + ["--no-http"],
            log_path,
        ),
        timeout=1800,
    )
    if code != 0:
        return (
            f"installing {', '.join(modules)} into {db} exited with {code}"
            f" (log: {log_path})"
        )
    missing = not_installed(db, modules)
    if missing:
        return f"{', '.join(missing)} not installed in {db} (log: {log_path})"
    return None


def copy_database(source, target, data_dir):
    """``target`` as a copy of ``source``, its filestore (the assets) included."""
    postgres(f'CREATE DATABASE "{target}" WITH TEMPLATE "{source}"')
    filestore = os.path.join(data_dir, "filestore", source)
    if os.path.isdir(filestore):
        shutil.copytree(filestore, os.path.join(data_dir, "filestore", target))


def test_id(logger, description):
    """``module:Class.method`` for a test the log names ``description``; a class's
    set-up or tear-down as ``module:Class.setUpClass``."""
    if fixture := FIXTURE.match(description):
        return f"{fixture.group(2)}:{fixture.group(3)}.{fixture.group(1)}"
    match = TEST_MODULE.match(logger)
    return f"{match.group(1)}:{description}" if match else description


def read_log(log_path):
    """What one test run logged: the tests started, those failing, the summary
    line's counts (None if Odoo never got there), the critical lines."""
    started, failing, critical, summary = [], set(), [], None
    with open(log_path, encoding="utf-8", errors="replace") as log:
        for line in log:
            match = LINE.match(line.rstrip())
            if not match:
                continue
            level, logger, message = match.groups()
            if message.startswith("Starting ") and message.endswith(" ..."):
                started.append(test_id(logger, message[len("Starting ") : -4]))
            elif level == "ERROR" and message.startswith(("FAIL: ", "ERROR: ")):
                failing.add(test_id(logger, message.split(": ", 1)[1]))
            elif level == "CRITICAL":
                critical.append(message)
            if (counts := SUMMARY.search(message)) and logger == "odoo.tests.result":
                summary = tuple(int(number) for number in counts.groups())
    return started, failing, summary, critical


def entry_ran(tag, tests):
    """Whether one of ``tests`` (ids as test_id makes them) is of the entry ``tag``."""
    module, klass, method = TAG.match(tag).groups()
    for test in tests:
        test_module, _, description = test.partition(":")
        test_class, _, test_method = description.partition(".")
        if test_module == module and klass in (None, test_class):
            if method in (None, test_method) or test_method.endswith("Class"):
                return True
    return False


def tag_of(test):
    """The test tag that runs the test ``test`` (an id as test_id makes them)."""
    module, _, description = test.partition(":")
    description = description.removeprefix("Subtest ").split(" ")[0]
    klass, _, method = description.partition(".")
    if not method or method.endswith("Class"):
        return f"/{module}:{klass}"
    return f"/{module}:{klass}.{method}"


def shown(tests):
    """``tests`` as printed: a test's failing subtests on one line, counted."""
    counts = collections.Counter(tag_of(test).lstrip("/") for test in tests)
    return [
        f"{test} ({count} subtests)" if count > 1 else test
        for test, count in sorted(counts.items())
    ]


def run_tests(dbs, tags, common, log_paths):
    """Runs the tests ``tags`` in each of ``dbs`` at once (one Odoo each: an Odoo
    run is mostly one core's work): what read_log reads of each, and the exit
    code (None when it timed out)."""
    processes = [
        odoo(
            [
                *common,
                "-d",
                db,
                "--test-tags",
                tags,
                "--stop-after-init",
                "--http-interface=127.0.0.1",
                f"--http-port={free_port()}",
                "--log-level=info",
            ],
            log_path,
            prelude=EVERY_TEST_AFTER_INSTALL,
        )
        for db, log_path in zip(dbs, log_paths, strict=True)
    ]
    deadline = time.monotonic() + 3600
    codes = [
        finished(process, timeout=max(deadline - time.monotonic(), 1))
        for process in processes
    ]
    return [
        (*read_log(log_path), code)
        for code, log_path in zip(codes, log_paths, strict=True)
    ]


def run_problems(name, run, entries, log_path):
    """What went wrong with the run ``name`` (without / with the addon), beside
    failing tests; and the ``entries`` that ran no test."""
    started, failing, summary, critical, code = run
    problems = [f"{name} the addon, Odoo logged CRITICAL: {line}" for line in critical]
    if code is None:
        problems.append(f"the run {name} the addon timed out ({log_path})")
    elif summary is None:
        problems.append(
            f"the run {name} the addon crashed (exit code {code},"
            f" no summary line; {log_path})"
        )
    elif not started:
        problems.append(f"the run {name} the addon ran no test ({log_path})")
    problems.extend(
        f"{tag} ran no test {name} the addon (renamed or removed in Odoo?)"
        for tag, _why in entries
        if started and not entry_ran(tag, [*started, *failing])
    )
    return problems


def main(addons_path, log_dir=None):
    log_dir = log_dir or tempfile.mkdtemp(prefix=f"{ADDON}-suites.")
    data_dir = tempfile.mkdtemp(prefix=f"{ADDON}-suites-data.")
    entries = chosen()
    tags = ",".join(tag for tag, _why in entries)
    modules = modules_to_install(addons_path)
    without, with_addon = (f"{ADDON}_suites_{SERIES}_{os.getpid()}_{n}" for n in NAMES)
    common = [f"--addons-path={addons_path}", f"--data-dir={data_dir}"]
    # 19.0 installs demo data only when asked; Odoo's tests expect it
    if SERIES >= 19:
        common.append("--with-demo")
    print(f"  {len(entries)} entries of Odoo's tests; modules: {', '.join(modules)}")
    problems = []
    clock = Clock()
    try:
        error = install(
            without, modules, common, f"{log_dir}/suites-install-{SERIES}.log"
        )
        if not error:
            copy_database(without, with_addon, data_dir)
            error = install(
                with_addon,
                [ADDON],
                common,
                f"{log_dir}/suites-install-addon-{SERIES}.log",
            )
        if error:
            print(f"  FAIL {error}")
            return 1
        print(f"  installed both databases in {clock}")
        dbs = (without, with_addon)
        log_paths = [f"{log_dir}/suites-{name}-addon-{SERIES}.log" for name in NAMES]
        run_clock = Clock()
        runs = run_tests(dbs, tags, common, log_paths)
        for name, run, log_path in zip(NAMES, runs, log_paths, strict=True):
            print(f"  {len(run[0])} tests run {name} the addon (log: {log_path})")
            problems += run_problems(name, run, entries, log_path)
        print(f"  both runs took {run_clock}")
        fail_without, fail_with = runs[0][1], runs[1][1]
        # Every test failing with the addon runs again, alone, in both databases:
        # it counts against the addon only if it fails with it again and passes
        # without it. A slow machine's failure (a tour's timeout) does not come
        # back, nor does it hide the addon's failure of the same test.
        only_with, flaky = sorted(fail_with - fail_without), []
        if fail_with and not problems:
            log_paths = [
                f"{log_dir}/suites-{name}-addon-again-{SERIES}.log" for name in NAMES
            ]
            again = run_tests(
                dbs,
                ",".join(sorted({tag_of(test) for test in fail_with})),
                common,
                log_paths,
            )
            for name, run, log_path in zip(NAMES, again, log_paths, strict=True):
                problems += run_problems(f"again {name}", run, [], log_path)
            again_without, again_with = again[0][1], again[1][1]
            print(f"  ran the {len(fail_with)} failing with the addon again")
            only_with = sorted((fail_with & again_with) - again_without)
            flaky = sorted(fail_with - again_with)
            fail_without = (fail_without | again_without) - set(only_with)
    finally:
        for db in (without, with_addon):
            postgres(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        shutil.rmtree(data_dir, ignore_errors=True)
    if fail_without:
        print(
            f"  {len(fail_without)} fail without the addon (Odoo's or the machine's):"
        )
        for test in shown(fail_without):
            print(f"    {test}")
    if flaky:
        print(f"  {len(flaky)} failed with the addon once, and passed again alone:")
        for test in shown(flaky):
            print(f"    {test}")
    for problem in problems:
        print(f"  FAIL {problem}")
    print(f"  {len(only_with)} fail only with the addon{':' if only_with else ''}")
    for test in shown(only_with):
        print(f"    FAIL {test}")
    print(f"  took {clock} in all")
    if only_with or problems:
        return 1
    print("  ok   no Odoo test fails only with the addon")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
