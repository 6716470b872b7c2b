"""Runs OCA's pre-commit module checks for 18.0 (oca-checks-odoo-module, oca-checks-po)
on a copy of the addon named partner_website_login, as OCA's CI sees it."""

import subprocess
import sys
import tempfile
from pathlib import Path

from check_wheel import copy_addon


def main():
    with tempfile.TemporaryDirectory() as tmp:
        addon = copy_addon(tmp)
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
    sys.exit(main())
