#!/usr/bin/env python3
"""Benchmark: what it costs to keep each mail's acceptance as it happens.

Run by hand (never by the tests), with the python of an Odoo series, on a database
where the addon is installed (its own rows are made and removed again):

    python3 benchmarks/keep_acceptance.py DATABASE ADDONS_PATH [--mails 2000]

The worker job keeps a mail's acceptance (the line's Message-Id) and commits it
before the next mail goes out, then takes the run's lock again, as Odoo's mail
queue commits after each mail. This times that, per mail, on a run of N lines
marked "sending": the UPDATE alone (as one transaction would do it), and the UPDATE
with its commit and the lock taken again. It prints the median and the mean in ms.
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
        half = len(lines) // 2

        def in_transaction(line):
            outcomes._keep_acceptance(line, f"<{line.id}@bench.test>", False)

        def committed(line):
            outcomes._keep_acceptance(line, f"<{line.id}@bench.test>", False)
            cr.commit()
            run._lock()

        run._lock()
        alone = timed(lines[:half], in_transaction)
        cr.commit()
        run._lock()
        kept = timed(lines[half:], committed)
        print(f"mails: {args.mails} (half each way), series {odoo.release.version}")
        print(
            f"  UPDATE only, in one transaction: median {alone[0]:.3f} ms, "
            f"mean {alone[1]:.3f} ms a mail"
        )
        print(
            f"  UPDATE, COMMIT and the lock again: median {kept[0]:.3f} ms, "
            f"mean {kept[1]:.3f} ms a mail"
        )
        run.line_ids.unlink()
        run.unlink()
        partners.unlink()
        cr.commit()


if __name__ == "__main__":
    main()
