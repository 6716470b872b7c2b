"""Runs OCA's pre-commit module checks (oca-checks-odoo-module, oca-checks-po) on the
addon of one Odoo series (scripts/make_series.py), in a folder named
partner_website_login, as OCA's CI sees it.

Usage: scripts/check_oca.py [SERIES]   (default: the root's series)"""

import subprocess
import sys
import tempfile
from pathlib import Path

from make_series import ADDON, make_series, root_series


def main(series):
    with tempfile.TemporaryDirectory() as tmp:
        addon = make_series(series, Path(tmp, ADDON))
        translations = sorted(str(path) for path in addon.glob("i18n/*.po*"))
        failed = 0
        tools = Path(sys.executable).parent  # installed beside this Python
        for command in (
            [tools / "oca-checks-odoo-module", addon],
            [tools / "oca-checks-po", *translations],
        ):
            failed |= subprocess.run(command, cwd=tmp, check=False).returncode
        print("OCA module checks: " + ("problems above" if failed else "clean"))
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else root_series()))
