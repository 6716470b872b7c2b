#!/usr/bin/env python3
"""Benchmark: the invite funnel's screens over many invites.

Run by hand (never by the tests), with Odoo 18's python3, on a database where the
addon is installed (it is copied, never changed):

    python3 benchmarks/funnel.py --template pwl_bench_template --sizes 10000 100000

For each size N it copies the template database, inserts N contacts of 500
companies invited over 10 runs straight in SQL (the data only; how the figures are
computed is the addon's), with a realistic spread: 4 % bounced, 55 % logged in
(hours to days after the mail), 35 % with a password of their own, 25 % expired
unanswered. Then, as a Website Login manager who is not an administrator, it calls
what the web client calls for each screen, in process: the analysis's graph
(web_read_group by run and stage), its pivot (read_group of the total and by run,
all measures) and a run's form (web_read with the funnel and the first 40
contacts). It prints the median time of 5 warm calls and the SQL queries of each.
"""

import argparse
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager

try:
    import odoo
    from odoo import api
    from odoo.modules.registry import Registry
    from odoo.tools import config
except ImportError:
    sys.exit("ERROR: python3 cannot import Odoo: run it with Odoo 18.0's python3.")

RUNS = 10
COMPANIES = 500
CALLS = 5
MEASURES = [
    "delivered_count:sum",
    "bounced_count:sum",
    "logged_in_count:sum",
    "active_count:sum",
    "unanswered_count:sum",
    "activation_rate:avg",
    "hours_to_first_login:avg",
]

FILL = """
INSERT INTO res_partner (name, is_company, active, website_access_state, type)
SELECT 'Bench Retailer ' || n, true, true, 'none', 'contact'
  FROM generate_series(1, %(companies)s) n;
UPDATE res_partner SET commercial_partner_id = id
 WHERE name LIKE 'Bench Retailer %%';
INSERT INTO res_partner (name, parent_id, commercial_partner_id, email,
                         email_normalized, active, website_enabled, allow_login,
                         website_access_state, type)
SELECT 'Bench Buyer ' || n, company.id, company.id, 'buyer' || n || '@bench.test',
       'buyer' || n || '@bench.test', true, true, true, 'invited', 'contact'
  FROM generate_series(1, %(size)s) n
  JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM res_partner
         WHERE name LIKE 'Bench Retailer %%') company
    ON company.k = n %% %(companies)s;
INSERT INTO partner_invite_run (origin, state, started_at, ended_at, started_by_id,
                                eligible_count, invited_count, all_taken)
SELECT 'bulk', 'done', now() - (r * interval '7 days'),
       now() - (r * interval '7 days') + interval '1 hour', 2,
       %(size)s / %(runs)s, %(size)s / %(runs)s, true
  FROM generate_series(1, %(runs)s) r;
WITH buyers AS (
    SELECT id, row_number() OVER (ORDER BY id) AS n, random() AS dice,
           random() AS later
      FROM res_partner WHERE name LIKE 'Bench Buyer %%'),
runs AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k, started_at
           FROM partner_invite_run WHERE started_by_id = 2)
INSERT INTO partner_invite_run_line (run_id, partner_id, outcome, accepted_at,
                                     message_id, first_login_at, password_set_at,
                                     expired_at)
SELECT runs.id, buyers.id,
       CASE WHEN dice < 0.04 THEN 'bounced' ELSE 'invited' END,
       runs.started_at, '<bench-' || buyers.id || '@bench.test>',
       CASE WHEN dice >= 0.04 AND dice < 0.59
            THEN runs.started_at + later * interval '72 hours' END,
       CASE WHEN dice >= 0.04 AND dice < 0.39
            THEN runs.started_at + later * interval '72 hours'
                 + interval '5 minutes' END,
       CASE WHEN dice >= 0.75 THEN runs.started_at + interval '48 hours' END
  FROM buyers JOIN runs ON runs.k = buyers.n %% %(runs)s;
INSERT INTO partner_invite_run_res_company_rel (partner_invite_run_id, res_company_id)
SELECT run.id, company.id FROM partner_invite_run run, res_company company
 WHERE run.started_by_id = 2;
ANALYZE res_partner; ANALYZE partner_invite_run_line; ANALYZE partner_invite_run;
"""


def psql(database, command):
    subprocess.run(
        ["psql", "-q", "-v", "ON_ERROR_STOP=1", "-d", database, "-c", command],
        check=True,
    )


@contextmanager
def bench_database(template, size):
    name = f"{template}_funnel_{size}"
    psql("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    psql("postgres", f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        psql(name, FILL % {"size": size, "runs": RUNS, "companies": COMPANIES})
        yield name
    finally:
        Registry.delete(name)
        odoo.sql_db.close_db(name)
        psql("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manager_env(registry, cr):
    env = api.Environment(cr, odoo.SUPERUSER_ID, {})
    manager = env["res.users"].search([("login", "=", "bench_funnel_manager")])
    if not manager:
        manager = (
            env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "name": "Bench Manager",
                    "login": "bench_funnel_manager",
                    "groups_id": [
                        (4, env.ref("base.group_user").id),
                        (
                            4,
                            env.ref(
                                "partner_website_login.group_website_login_manager"
                            ).id,
                        ),
                    ],
                }
            )
        )
    assert not manager.has_group("base.group_system")
    return env(user=manager.id, context={"lang": "en_US", "tz": "UTC"})


def measure(env, call):
    """Median seconds and queries of ``call`` over CALLS warm calls (the first one
    warms the registry's caches and is left out)."""
    timings, queries = [], []
    for _round in range(CALLS + 1):
        env.invalidate_all()
        before = env.cr.sql_log_count
        started = time.perf_counter()
        call()
        timings.append(time.perf_counter() - started)
        queries.append(env.cr.sql_log_count - before)
    return statistics.median(timings[1:]), max(queries[1:])


def screens(env):
    analysis = env["partner.invite.analysis"]
    run = env["partner.invite.run"].search([], limit=1)
    assert run, "the manager sees the runs"
    form_spec = {
        **{
            name: {}
            for name in (
                "name",
                "state",
                "progress",
                "eligible_count",
                "invited_count",
                "failed_count",
                "skipped_count",
                "waiting_count",
                "next_attempt_at",
                "expected_end",
                "pace_summary",
                "skipped_summary",
                "duration",
                "funnel_bar",
                "funnel_delivered",
                "funnel_logged_in",
                "funnel_active",
                "funnel_bounced",
                "funnel_unanswered",
                "funnel_activation_rate",
                "funnel_median_hours",
            )
        },
        "line_ids": {
            "fields": {
                "partner_id": {"fields": {"display_name": {}}},
                "outcome": {},
                "accepted_at": {},
                "stage": {},
                "next_attempt_at": {},
                "reason": {},
            },
            "limit": 40,
            "order": "",
        },
    }
    return {
        "graph (web_read_group run x stage)": lambda: analysis.web_read_group(
            [], ["__count"], ["run_id", "stage"], lazy=False
        ),
        "pivot (read_group total + by run)": lambda: (
            analysis.read_group([], MEASURES, [], lazy=False),
            analysis.read_group([], MEASURES, ["run_id"], lazy=False),
        ),
        "pivot by company (500 rows)": lambda: analysis.read_group(
            [], MEASURES, ["commercial_partner_id"], lazy=False
        ),
        "run form (web_read)": lambda: run.web_read(form_spec),
        "filter Never logged in (search_count)": lambda: analysis.search_count(
            [("first_login_at", "=", False), ("stage", "!=", "bounced")]
        ),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", required=True, help="database with the addon")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--addons-path", default=None)
    args = parser.parse_args()
    options = ["--log-level=warn"]
    if args.addons_path:
        options.append(f"--addons-path={args.addons_path}")
    config.parse_config(options)
    results = {}
    for size in args.sizes:
        with bench_database(args.template, size) as name:
            registry = Registry(name)
            with registry.cursor() as cr:
                env = manager_env(registry, cr)
                lines = env["partner.invite.analysis"].search_count([])
                print(
                    f"N = {size:,} contacts, {lines:,} delivered invites, {RUNS} runs"
                )
                for screen, call in screens(env).items():
                    seconds, queries = measure(env, call)
                    results.setdefault(screen, {})[size] = (seconds, queries)
                    print(f"  {screen:42} {seconds * 1000:8.1f} ms {queries:4} queries")
                cr.rollback()
    print("\nqueries per screen by N:")
    for screen, by_size in results.items():
        counts = ", ".join(f"{size:,}: {q}" for size, (_s, q) in by_size.items())
        print(f"  {screen:42} {counts}")


if __name__ == "__main__":
    main()
