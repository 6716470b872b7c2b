"""Builds the addon's wheel of one Odoo series the OCA way (whool) and checks what an
integrator gets: odoo_addon_partner_website_login-<series>.x.y.z, requiring
odoo==<series>.*.

whool names the wheel after the folder and packs every git-tracked file: the build
runs on the series' addon made by scripts/make_series.py, in a folder called
partner_website_login that holds the addon only (no scripts/, benchmarks/, .ci/ or
dotfiles).

Usage: scripts/check_wheel.py [SERIES]   (default: the root's series)
"""

import email
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from make_series import ADDON, TOOLING, make_series, root_series

REQUIRED = [
    "__manifest__.py",
    "views/res_partner_views.xml",
    "data/mail_template_data.xml",
    "data/ir_cron_data.xml",
    "security/ir.model.access.csv",
    "i18n/partner_website_login.pot",
    "README.rst",
]


def run(*args, **kwargs):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kwargs)


def main(series):
    with tempfile.TemporaryDirectory() as tmp:
        source = make_series(series, Path(tmp, ADDON))
        git = ("git", "-c", "user.email=ci@localhost", "-c", "user.name=ci")
        run("git", "init", "-q", cwd=source)
        run("git", "add", "-A", cwd=source)
        run(*git, "commit", "-q", "-m", "build", cwd=source)
        dist = Path(tmp, "dist")
        run(
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(dist),
            str(source),
        )
        [wheel] = dist.glob("*.whl")
        names = zipfile.ZipFile(wheel).namelist()
        prefix = f"odoo/addons/{ADDON}/"
        missing = [name for name in REQUIRED if prefix + name not in names]
        stray = [
            name
            for name in names
            if name.startswith(tuple(prefix + t for t in TOOLING))
        ]
        meta = email.message_from_string(
            zipfile.ZipFile(wheel)
            .read(next(name for name in names if name.endswith("METADATA")))
            .decode()
        )
        target = Path(tmp, "site")
        run(
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        )
        found = run(
            sys.executable,
            "-c",
            "import odoo.addons, odoo.modules.module as m; "
            f"print(m.get_module_path('{ADDON}', display_warning=False))",
            env={**os.environ, "PYTHONPATH": str(target)},
        ).stdout.strip()
    problems = []
    if meta["Name"] != f"odoo-addon-{ADDON}":
        problems.append(f"wheel named {meta['Name']!r}")
    if not wheel.name.startswith(f"odoo_addon_{ADDON}-{series}."):
        problems.append(f"{wheel.name} is not a wheel of the {series} series")
    if not any(
        req.startswith(f"odoo=={series}") for req in meta.get_all("Requires-Dist", [])
    ):
        problems.append(f"the wheel does not require odoo=={series}.*")
    if missing:
        problems.append(f"missing from the wheel: {', '.join(missing)}")
    if stray:
        problems.append(f"tooling in the wheel: {', '.join(stray)}")
    if not found.startswith(str(target)):
        problems.append(f"installed wheel not on Odoo's addons path (found {found!r})")
    print(
        f"{wheel.name}: {len(names)} files, requires "
        f"{', '.join(meta.get_all('Requires-Dist', []))}"
    )
    for problem in problems:
        print("WHEEL PROBLEM:", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else root_series()))
