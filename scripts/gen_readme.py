#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Writes README.rst from the readme/ fragments, in the order and shape of OCA's
oca-gen-addon-readme, with this addon's own (non-OCA) header and credits.

Needs pandoc (Debian: apt-get install pandoc). Usage:
    python3 scripts/gen_readme.py          # rewrite README.rst
    python3 scripts/gen_readme.py --check  # exit 1 if README.rst is out of date
"""

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# fragment, heading (OCA's order and headings). OCA's generator also renders
# DEVELOP.md, as "Development"; here it stays a contributors' file, out of the
# users' README.
SECTIONS = [
    ("DESCRIPTION.md", None),
    ("CONTEXT.md", "Use Cases / Context"),
    ("INSTALL.md", "Installation"),
    ("CONFIGURE.md", "Configuration"),
    ("USAGE.md", "Usage"),
    ("ROADMAP.md", "Known issues / Roadmap"),
]
STATUS_COLOURS = {"Alpha": "red", "Beta": "yellow", "Production/Stable": "green"}


def to_rst(markdown):
    return subprocess.run(
        ["pandoc", "-f", "markdown-smart", "-t", "rst", "--columns=72"],
        input=markdown,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def heading(text, underline, overline=False):
    line = underline * len(text)
    return f"{line}\n{text}\n{line}" if overline else f"{text}\n{line}"


def readme():
    manifest = ast.literal_eval((REPO / "__manifest__.py").read_text())
    status = manifest.get("development_status", "Beta")
    badge_status = status.replace("/", "-")
    parts = [
        heading(manifest["name"], "=", overline=True),
        "..\n   This file is written by scripts/gen_readme.py from the fragments in\n"
        "   readme/ (OCA's layout): edit those, then run it.",
        f".. |badge1| image:: https://img.shields.io/badge/maturity-{badge_status}-"
        f"{STATUS_COLOURS.get(status, 'lightgrey')}.png\n"
        f"    :target: https://odoo-community.org/page/development-status\n"
        f"    :alt: {status}\n"
        ".. |badge2| image:: https://img.shields.io/badge/license-LGPL--3-blue.png\n"
        "    :target: http://www.gnu.org/licenses/lgpl-3.0-standalone.html\n"
        "    :alt: License: LGPL-3\n\n|badge1| |badge2|",
    ]
    for fragment, title in SECTIONS:
        path = REPO / "readme" / fragment
        if not path.exists():
            continue
        if title:
            parts.append(heading(title, "="))
        else:
            body = to_rst(path.read_text())
            parts += [body, "**Table of contents**\n\n.. contents::\n   :local:"]
            continue
        parts.append(to_rst(path.read_text()))
    parts += [
        heading("Bug Tracker", "="),
        "Report bugs in this repository's issue tracker, with the steps to "
        "reproduce them,\nwhat happened and what you expected.",
        heading("Credits", "="),
        heading("Authors", "-"),
        "* " + manifest["author"],
        heading("Contributors", "-"),
        to_rst((REPO / "readme" / "CONTRIBUTORS.md").read_text()),
        heading("Maintainers", "-"),
        "This addon is maintained by its contributors. It follows the layout and "
        "the\nchecks of the Odoo Community Association (OCA), but it is not an "
        "OCA project\nand the OCA does not maintain it.",
    ]
    return "\n\n".join(parts) + "\n"


def main():
    text = readme()
    target = REPO / "README.rst"
    if "--check" in sys.argv:
        if target.read_text() != text:
            print("README.rst is out of date: run python3 scripts/gen_readme.py")
            return 1
        print("README.rst matches readme/")
        return 0
    target.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
