#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Makes the addon of one Odoo series from the repository's (the root is 18.0).

    scripts/make_series.py 19.0 DEST     # DEST/__manifest__.py says 19.0.x.y.z

DEST gets the addon's files (what its wheel ships: no scripts/, benchmarks/, .ci/
or dotfiles), then the series' rewrites of scripts/series_rewrites.py, in their
order, the way Odoo's own ``odoo-bin upgrade_code`` scripts rewrite an addon. A
rewrite whose text is missing from a file it names fails the command: the list
cannot rot. The root's own series is a plain copy. DEST must not exist, or be an
empty folder.
"""

import ast
import subprocess
import sys
from pathlib import Path

from series_rewrites import REWRITES

ADDON = "partner_website_login"
REPO = Path(__file__).resolve().parent.parent
# what the repository holds besides the addon (never in the addon nor its wheel)
TOOLING = ("scripts/", "benchmarks/", ".ci/", "test-requirements.txt")


def addon_files():
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    return [
        name
        for name in listed
        if not name.startswith(TOOLING)
        and not name.startswith(".")
        and (REPO / name).is_file()
    ]


def copy_addon(folder, name=None):
    """The addon's files (no tooling) into ``folder``/``name`` (partner_website_login
    by default)."""
    addon = Path(folder, name or ADDON)
    for file_name in addon_files():
        target = addon / file_name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((REPO / file_name).read_bytes())
    return addon


def root_series():
    manifest = ast.literal_eval((REPO / "__manifest__.py").read_text())
    return ".".join(manifest["version"].split(".")[:2])


def apply_rewrites(addon, series):
    """Apply the rewrites of ``series`` in the addon folder ``addon``; returns the
    problems (empty when every rewrite applied to every file it names)."""
    problems = []
    for rewrite in REWRITES[series]:
        for name in rewrite.files:
            path = addon / name
            text = path.read_text(encoding="utf-8") if path.is_file() else ""
            if rewrite.old not in text:
                problems.append(
                    f"{name}: no longer holds the text of the rewrite "
                    f"{rewrite.why!r}: {rewrite.old!r}"
                )
                continue
            path.write_text(text.replace(rewrite.old, rewrite.new), encoding="utf-8")
    return problems


def make_series(series, dest):
    """The addon of ``series`` in the folder ``dest`` (named partner_website_login
    for Odoo to import it)."""
    root = root_series()
    if series != root and series not in REWRITES:
        known = ", ".join(sorted({root, *REWRITES}))
        raise SystemExit(f"ERROR: no rewrites for Odoo {series} (known: {known})")
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise SystemExit(f"ERROR: {dest} exists and is not empty")
    addon = copy_addon(dest.parent, name=dest.name)
    if series != root:
        if problems := apply_rewrites(addon, series):
            raise SystemExit("ERROR: " + "\nERROR: ".join(problems))
    return addon


def main(argv):
    if len(argv) != 2:
        raise SystemExit(__doc__)
    series, dest = argv
    addon = make_series(series, dest)
    rewrites = 0 if series == root_series() else len(REWRITES[series])
    print(f"Odoo {series} addon in {addon} ({rewrites} rewrites applied)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
