#!/usr/bin/env python3
"""Benchmark: what it costs to keep each mail's acceptance as it happens.

Run by hand (never by the tests), with the python of an Odoo series, on a database
where the addon is installed (its own rows are made and removed again):

    python3 benchmarks/keep_acceptance.py DATABASE ADDONS_PATH [--mails 2000]

The worker job keeps a mail's acceptance (the line's Message-Id) and commits it
before the next mail goes out, as Odoo's mail queue commits after each mail, on a
connection of its own (partner.invite.outcome._keep_acceptance), so that the batch's
transaction keeps its cache and the run's lock. This times, per mail, on a run of N
lines marked "sending", a third of them each way: the UPDATE alone, in the batch's
transaction (what no durability costs); the UPDATE committed on the batch's own
cursor and the run's lock taken again (each commit empties the batch's ORM cache,
a cost that shows in the mails after it, not here); and the UPDATE on its own
connection in autocommit, as built. It prints the median and the mean in ms.
"""

import argparse
import statistics
import sys
import time

try:
    import odoo
    from odoo import SUPERUSER_ID, api
    from odoo.modules.registry import Registry
    from odoo.tools import config
except ImportError:
    sys.exit("ERROR: this python cannot import Odoo.")


def timed(lines, keep):
    """ms per line of ``keep(line)``."""
    durations = []
    for line in lines:
        started = time.perf_counter()
        keep(line)
        durations.append((time.perf_counter() - started) * 1000)
    return statistics.median(durations), statistics.fmean(durations)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database")
    parser.add_argument("addons_path")
    parser.add_argument("--mails", type=int, default=2000)
    args = parser.parse_args()
    config.parse_config(
        ["-d", args.database, f"--addons-path={args.addons_path}", "--no-http"]
    )
    odoo.modules.module.initialize_sys_path()
    registry = Registry(args.database)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        partners = env["res.partner"].create(
            [
                {"name": f"Acceptance {index}", "email": f"a{index}@bench.test"}
                for index in range(args.mails)
            ]
        )
        run = env["partner.invite.run"].create({"origin": "manual"})
        outcomes = env["partner.invite.outcome"]
        lines = outcomes._create_sending(run, partners)
        cr.commit()
        third = len(lines) // 3
        acceptance_cr = env["partner.invite.outcome"]._acceptance_cursor()

        def in_transaction(line):
            cr.execute(
                "UPDATE partner_invite_run_line SET message_id = %s WHERE id = %s",
                (f"<{line.id}@bench.test>", line.id),
            )

        def committed_on_the_batch(line):
            cr.execute("SET LOCAL synchronous_commit TO OFF")
            in_transaction(line)
            cr.commit()
            run._lock()

        def committed_alone(line):
            outcomes._keep_acceptance(
                acceptance_cr, line, f"<{line.id}@bench.test>", False
            )

        run._lock()
        alone = timed(lines[:third], in_transaction)
        cr.commit()
        run._lock()
        on_batch = timed(lines[third : 2 * third], committed_on_the_batch)
        kept = timed(lines[2 * third :], committed_alone)
        env["partner.invite.outcome"]._close_acceptance_cursor(acceptance_cr)
        print(f"mails: {args.mails} (a third each way), series {odoo.release.version}")
        for label, (median, mean) in (
            ("UPDATE only, in the batch's transaction", alone),
            ("UPDATE, COMMIT on the batch's cursor, lock again", on_batch),
            ("UPDATE on its own connection in autocommit (as built)", kept),
        ):
            print(f"  {label}: median {median:.3f} ms, mean {mean:.3f} ms a mail")
        cr.commit()  # a snapshot that sees the acceptances of the other connection
        run.line_ids.unlink()
        run.unlink()
        partners.unlink()
        cr.commit()


if __name__ == "__main__":
    main()
