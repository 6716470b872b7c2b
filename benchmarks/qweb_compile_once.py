#!/usr/bin/env python3
"""Benchmark: the invite template's body rendered for N contacts, the Odoo way and
compiled once (models/mail_render_mixin.py), on whichever Odoo series runs it.

Run by hand (never by the tests), with the Python of that series, on a database
where the addon is installed (what scripts/test.sh or scripts/demo.sh left, or any):

    python3 benchmarks/qweb_compile_once.py DATABASE ADDONS_PATH [N]   (N: 500)

The contacts are made in a transaction that is rolled back: the database is left as
it was. Prints the milliseconds per contact of each way, the best of three rounds,
and whether both rendered the same bodies.
"""

import sys
import time

import odoo
from odoo.modules.registry import Registry
from odoo.tools import config

COMPILE_ONCE = "website_login_compile_once"
TEMPLATE = "partner_website_login.mail_template_website_invite"


def best_of_three(render):
    timings = []
    for _round in range(3):
        started = time.perf_counter()
        result = render()
        timings.append(time.perf_counter() - started)
    return min(timings), result


def main(db, addons_path, count=500):
    config.parse_config(["-d", db, f"--addons-path={addons_path}", "--log-level=warn"])
    odoo.modules.module.initialize_sys_path()
    with Registry(db).cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        partners = env["res.partner"].create(
            [
                {
                    "name": f"Render Contact {index}",
                    "email": f"render.{index}@customer.test",
                    "username": f"render.{index}",
                }
                for index in range(count)
            ]
        )
        template = env.ref(TEMPLATE).sudo()
        context = {"website_password": "<password>"}

        def render(**flags):
            return template.with_context(**context, **flags)._render_field(
                "body_html", partners.ids
            )

        odoo_way, expected = best_of_three(render)
        once, rendered = best_of_three(lambda: render(**{COMPILE_ONCE: True}))
        cr.rollback()
    print(f"Odoo {odoo.release.version}, {count} contacts, body_html:")
    print(f"  the Odoo way:   {odoo_way / count * 1000:.2f} ms per contact")
    print(f"  compiled once:  {once / count * 1000:.2f} ms per contact")
    print(f"  same bodies:    {rendered == expected}")
    return 0 if rendered == expected else 1


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:3], *map(int, sys.argv[3:])))
