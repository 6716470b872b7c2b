# Shared by scripts/test.sh and scripts/demo.sh: finds (or sets up) a Python with
# Odoo 18.0, checks PostgreSQL, and puts the checkout on an addons path under its
# technical name.
#
# Which Python runs Odoo, first match wins:
#   1. ODOO_PYTHON, an interpreter that imports Odoo 18.0 (an Odoo you already have);
#   2. python3, when it imports Odoo 18.0 and ODOO_SOURCE is not set;
#   3. the virtualenv .venv/ in the checkout, made and filled on the first run:
#      Odoo 18.0 from ODOO_SOURCE (a source folder or a .tar.gz / .zip of one) or,
#      by default, from Odoo's official 18.0 source download (ODOO_SOURCE_URL).
# shellcheck shell=bash

ADDON=partner_website_login
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV_DIR="$REPO_ROOT/.venv"
ODOO_SOURCE_URL=${ODOO_SOURCE_URL:-https://nightly.odoo.com/18.0/nightly/src/odoo_18.0.latest.tar.gz}
# What Odoo's requirements need to build on Debian (python-ldap, psycopg2, ...)
DEBIAN_BUILD_PACKAGES=(build-essential libldap2-dev libsasl2-dev libpq-dev)

die() {
    echo "ERROR: $*" >&2
    exit 2
}

say() {
    echo "== $*"
}

imports_odoo_18() {
    [ "$("$1" -c 'import odoo.release as r; print(r.version_info[0])' 2>/dev/null)" = 18 ]
}

# Sets PY (the Python that runs Odoo and the scripts) and ODOO_ADDONS.
require_odoo() {
    if [ -n "${ODOO_PYTHON:-}" ]; then
        imports_odoo_18 "$ODOO_PYTHON" ||
            die "ODOO_PYTHON=$ODOO_PYTHON does not import Odoo 18.0."
        PY=$ODOO_PYTHON
    elif [ -z "${ODOO_SOURCE:-}" ] && imports_odoo_18 python3; then
        PY=$(python3 -c "import sys; print(sys.executable)")
    elif [ -x "$VENV_DIR/bin/python" ] && imports_odoo_18 "$VENV_DIR/bin/python" &&
        { [ -z "${ODOO_SOURCE:-}" ] || [ "$(cat "$VENV_DIR/odoo-source" 2>/dev/null)" = "$ODOO_SOURCE" ]; }; then
        PY=$VENV_DIR/bin/python
    else
        install_odoo_into_venv
        PY=$VENV_DIR/bin/python
    fi
    ODOO_ADDONS=$("$PY" -c 'import os, odoo; root = os.path.dirname(os.path.dirname(odoo.__file__)); print(",".join(p for p in (os.path.join(root, "addons"), os.path.join(root, "odoo", "addons")) if os.path.isdir(p)))')
    say "Odoo $("$PY" -c 'import odoo.release as r; print(r.version)') from $("$PY" -c 'import os, odoo; print(os.path.dirname(odoo.__file__))') (python: $PY)"
}

install_debian_build_packages() {
    command -v dpkg-query >/dev/null 2>&1 || {
        echo "   (not Debian: if a requirement fails to build, install your system's" \
            "development packages for OpenLDAP, Cyrus SASL and libpq, and a C compiler)"
        return 0
    }
    local missing=() package
    for package in "${DEBIAN_BUILD_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" ||
            missing+=("$package")
    done
    [ ${#missing[@]} = 0 ] && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing the Debian packages Odoo's requirements build against: ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null ||
            { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; } ||
            die "apt-get could not install ${missing[*]}."
    else
        die "Odoo's requirements need these Debian packages to build: sudo apt-get install ${missing[*]}"
    fi
}

# Unpacks ODOO_SOURCE (or the official download) into .venv/odoo-src unless it is a
# folder already; prints the folder holding setup.py and requirements.txt.
odoo_source_folder() {
    local source=${ODOO_SOURCE:-$ODOO_SOURCE_URL} unpacked="$VENV_DIR/odoo-src"
    if [ -d "$source" ]; then
        (cd "$source" && pwd)
        return 0
    fi
    rm -rf "$unpacked" && mkdir -p "$unpacked"
    case "$source" in
        http://* | https://*)
            say "downloading Odoo 18.0 from $source (a few hundred MB)" >&2
            "$BASE_PYTHON" - "$source" "$unpacked/odoo.tar.gz" <<'PY' ||
import shutil, sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=60) as answer, open(sys.argv[2], "wb") as out:
    shutil.copyfileobj(answer, out)
PY
                die "could not download $source: set ODOO_SOURCE to a local Odoo 18.0 folder or archive."
            source="$unpacked/odoo.tar.gz"
            ;;
    esac
    [ -f "$source" ] || die "ODOO_SOURCE=$source is neither a folder nor an archive."
    "$BASE_PYTHON" -c 'import shutil, sys; shutil.unpack_archive(sys.argv[1], sys.argv[2])' \
        "$source" "$unpacked" || die "could not unpack $source."
    rm -f "$unpacked/odoo.tar.gz"
    local setup
    setup=$(find "$unpacked" -maxdepth 2 -name setup.py -print -quit)
    [ -n "$setup" ] || die "$source holds no setup.py: is it an Odoo source?"
    dirname "$setup"
}

install_odoo_into_venv() {
    BASE_PYTHON=$(command -v python3) || die "python3 is not installed."
    local source
    say "python3 cannot import Odoo 18.0: setting up $VENV_DIR (once; later runs reuse it)"
    "$BASE_PYTHON" -m venv --clear "$VENV_DIR" ||
        die "python3 -m venv failed (on Debian: apt-get install python3-venv)."
    source=$(odoo_source_folder) || exit 2
    [ -f "$source/requirements.txt" ] && [ -f "$source/odoo/release.py" ] ||
        die "$source is not an Odoo source folder (no requirements.txt or odoo/release.py)."
    grep -q "^version_info = (18, 0" "$source/odoo/release.py" ||
        die "$source is not Odoo 18.0."
    install_debian_build_packages
    local pip=("$VENV_DIR/bin/python" -m pip install --quiet --disable-pip-version-check)
    if grep -q "^cbor2==5.4.2" "$source/requirements.txt"; then
        # cbor2 5.4.2's setup needs setuptools_scm < 8 and a setuptools without the
        # newer metadata checks; with them it builds and works unchanged.
        say "cbor2 5.4.2 (pinned by Odoo) no longer builds with current setuptools: building it with setuptools<70 and setuptools_scm<8"
        "${pip[@]}" "setuptools<70" wheel "setuptools_scm<8" &&
            SETUPTOOLS_SCM_PRETEND_VERSION=5.4.2 "${pip[@]}" --no-build-isolation cbor2==5.4.2 ||
            die "could not build cbor2 5.4.2."
    fi
    say "installing Odoo's requirements.txt into $VENV_DIR (a few minutes, once)"
    "${pip[@]}" -r "$source/requirements.txt" || die "pip could not install Odoo's requirements."
    "${pip[@]}" --no-deps -e "$source" || die "pip could not install Odoo from $source."
    imports_odoo_18 "$VENV_DIR/bin/python" || die "Odoo does not import in $VENV_DIR."
    echo "${ODOO_SOURCE:-$ODOO_SOURCE_URL}" >"$VENV_DIR/odoo-source"
}

# A role for the current user where none exists and the local server lets us make
# one (root, with the postgres system account); otherwise says what to run.
require_postgres() {
    local error role=${PGUSER:-$(id -un)}
    [ "$role" = postgres ] && die "PGUSER=postgres: Odoo refuses to run as the PostgreSQL superuser 'postgres'. Use a role that may create databases."
    error=$("$PY" - 2>&1 <<'PY'
import psycopg2
psycopg2.connect(dbname="postgres", connect_timeout=5).close()
PY
    ) && return 0
    if [[ "$error" == *"role \"$role\" does not exist"* ]] && [ -z "${PGHOST:-}" ] &&
        [ "$(id -u)" = 0 ] && command -v runuser >/dev/null 2>&1 && id postgres >/dev/null 2>&1; then
        say "creating the PostgreSQL role $role (may create databases)"
        runuser -u postgres -- createuser --createdb "$role" ||
            die "could not create the PostgreSQL role $role: run  sudo -u postgres createuser --createdb $role"
        return 0
    fi
    if [[ "$error" == *"does not exist"* ]]; then
        die "PostgreSQL has no role $role: run  sudo -u postgres createuser --createdb $role  (or set PGUSER/PGPASSWORD to a role that may create databases)."
    fi
    die "no PostgreSQL answers at ${PGHOST:-the default socket}:${PGPORT:-5432} as $role (${error##*$'\n'}). Start it, or set PGHOST, PGPORT, PGUSER and PGPASSWORD (a role that may create databases, not 'postgres': Odoo refuses that one)."
}

# pip install into PY's environment; quiet when all is there already.
pip_install() {
    "$PY" -m pip install --quiet --disable-pip-version-check "$@" >/dev/null 2>&1 ||
        "$PY" -m pip install --disable-pip-version-check "$@" ||
        die "could not install the Python tools: $*"
}

# Odoo imports the addon as odoo.addons.partner_website_login: the checkout must sit
# on the addons path under that name, whatever the clone is called.
link_addon() {
    ADDONS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/${ADDON}-addons.XXXXXX")
    ln -s "$REPO_ROOT" "$ADDONS_DIR/$ADDON"
    ADDONS_PATH="$ODOO_ADDONS,$ADDONS_DIR"
}

odoo_bin() {
    "$PY" -m odoo "$@"
}

# Odoo's browser tests drive a headless Chromium: install Debian's where we may.
require_chromium() {
    command -v chromium >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1 ||
        command -v chromium-browser >/dev/null 2>&1 && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing Debian's chromium for the browser test"
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } ||
            die "apt-get could not install chromium."
    else
        die "the browser test needs Chromium: sudo apt-get install chromium (or install Google Chrome)."
    fi
}
