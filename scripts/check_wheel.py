"""Builds the addon's wheel the OCA way (whool) and checks what an integrator gets.

whool names the wheel after the folder and packs every git-tracked file: the build
runs on a copy called partner_website_login that holds the addon only (no scripts/,
benchmarks/, .ci/ or dotfiles).
"""

import email
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ADDON = "partner_website_login"
REPO = Path(__file__).resolve().parent.parent
TOOLING = ("scripts/", "benchmarks/", ".ci/", "test-requirements.txt")
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


def addon_files():
    listed = run(
        "git", "ls-files", "--cached", "--others", "--exclude-standard", cwd=REPO
    ).stdout.splitlines()
    return [
        name
        for name in listed
        if not name.startswith(TOOLING)
        and not name.startswith(".")
        and (REPO / name).is_file()
    ]


def copy_addon(folder):
    """The addon's files (no tooling) into ``folder``/partner_website_login."""
    addon = Path(folder, ADDON)
    for name in addon_files():
        target = addon / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((REPO / name).read_bytes())
    return addon


def main():
    with tempfile.TemporaryDirectory() as tmp:
        source = copy_addon(tmp)
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
    if not any(
        req.startswith("odoo==18.0") for req in meta.get_all("Requires-Dist", [])
    ):
        problems.append("the wheel does not require odoo==18.0.*")
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
    sys.exit(main())
