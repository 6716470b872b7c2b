# Shared by scripts/test.sh and scripts/demo.sh: finds (or sets up) a Python with
# the Odoo series asked for, checks PostgreSQL, and puts the addon of that series
# on an addons path under its technical name.
#
# Series: the repository root is the addon for ROOT_SERIES (its manifest's); any
# other series in SUPPORTED_SERIES is made from it by scripts/make_series.py.
#
# Which Python runs Odoo <series> (e.g. 19.0, major 19), first match wins:
#   1. ODOO_PYTHON_<major> (or ODOO_PYTHON when one series is asked for), an
#      interpreter that imports that Odoo (an Odoo you already have);
#   2. python3, when it imports that series and no source is given for it;
#   3. the virtualenv venv-<series> in CACHE_DIR (outside the checkout, so that every
#      clone reuses it), made and filled on the first run: Odoo from
#      ODOO_SOURCE_<major> (or ODOO_SOURCE when one series is asked for), a source
#      folder, a .tar.gz / .zip of one or its URL, or by default Odoo's official
#      source download of the series.
# shellcheck shell=bash

ADDON=partner_website_login
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROOT_SERIES=$(sed -n 's/^ *"version": "\([0-9]*\.0\)\..*/\1/p' "$REPO_ROOT/__manifest__.py")
SUPPORTED_SERIES=(18.0 19.0)
CACHE_DIR=${PARTNER_WEBSITE_LOGIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/$ADDON}
# What Odoo's requirements need to build on Debian (python-ldap, psycopg2, ...)
DEBIAN_BUILD_PACKAGES=(build-essential libldap2-dev libsasl2-dev libpq-dev)

die() {
    echo "ERROR: $*" >&2
    exit 2
}

say() {
    echo "== $*"
}

official_source_url() {
    echo "https://nightly.odoo.com/$1/nightly/src/odoo_$1.latest.tar.gz"
}

# parse_series ARG...: SERIES_LIST gets the arguments that name a series (in order,
# default ROOT_SERIES), OTHER_ARGS the others. Refuses a series not supported.
parse_series() {
    SERIES_LIST=()
    OTHER_ARGS=()
    local arg known
    for arg in "$@"; do
        if [[ "$arg" =~ ^[0-9]+\.0$ ]]; then
            known=0
            for series in "${SUPPORTED_SERIES[@]}"; do
                [ "$series" = "$arg" ] && known=1
            done
            [ "$known" = 1 ] || die "Odoo $arg is not supported (supported: ${SUPPORTED_SERIES[*]})."
            SERIES_LIST+=("$arg")
        else
            OTHER_ARGS+=("$arg")
        fi
    done
    [ ${#SERIES_LIST[@]} -gt 0 ] || SERIES_LIST=("$ROOT_SERIES")
    if [ ${#SERIES_LIST[@]} -gt 1 ] && { [ -n "${ODOO_SOURCE:-}" ] || [ -n "${ODOO_PYTHON:-}" ]; }; then
        die "ODOO_SOURCE and ODOO_PYTHON name one Odoo: with several series, set ODOO_SOURCE_<major> / ODOO_PYTHON_<major> (e.g. ODOO_SOURCE_19) instead."
    fi
}

imports_odoo() {  # imports_odoo PYTHON SERIES
    [ "$("$1" -c 'import odoo.release as r; print(r.version_info[0])' 2>/dev/null)" = "${2%%.*}" ]
}

# require_odoo SERIES: sets SERIES, PY (the Python that runs Odoo and the scripts)
# and ODOO_ADDONS.
require_odoo() {
    SERIES=$1
    local major=${1%%.*} python_var source_var
    python_var="ODOO_PYTHON_$major"
    source_var="ODOO_SOURCE_$major"
    ODOO_PYTHON_GIVEN=${!python_var:-${ODOO_PYTHON:-}}
    ODOO_SOURCE_GIVEN=${!source_var:-${ODOO_SOURCE:-}}
    VENV_DIR="$CACHE_DIR/venv-$SERIES"
    if [ -n "$ODOO_PYTHON_GIVEN" ]; then
        imports_odoo "$ODOO_PYTHON_GIVEN" "$SERIES" ||
            die "$python_var / ODOO_PYTHON=$ODOO_PYTHON_GIVEN does not import Odoo $SERIES."
        PY=$ODOO_PYTHON_GIVEN
    elif [ -z "$ODOO_SOURCE_GIVEN" ] && imports_odoo python3 "$SERIES"; then
        PY=$(python3 -c "import sys; print(sys.executable)")
    elif [ -x "$VENV_DIR/bin/python" ] && [ -f "$VENV_DIR/odoo-source" ] &&
        imports_odoo "$VENV_DIR/bin/python" "$SERIES" &&
        { [ -z "$ODOO_SOURCE_GIVEN" ] || [ "$(cat "$VENV_DIR/odoo-source")" = "$ODOO_SOURCE_GIVEN" ]; }; then
        PY=$VENV_DIR/bin/python
    else
        install_odoo_into_venv
        PY=$VENV_DIR/bin/python
    fi
    # odoo.release, not odoo: Odoo 19.0's odoo is a namespace package (no __file__)
    ODOO_ADDONS=$("$PY" -c 'import os, odoo.release; root = os.path.dirname(os.path.dirname(odoo.release.__file__)); print(",".join(p for p in (os.path.join(root, "addons"), os.path.join(root, "odoo", "addons")) if os.path.isdir(p)))')
    say "Odoo $("$PY" -c 'import odoo.release as r; print(r.version)') from $("$PY" -c 'import os, odoo.release; print(os.path.dirname(odoo.release.__file__))') (python: $PY)"
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

# Unpacks the source given (or the official download of SERIES) into
# VENV_DIR/odoo-src unless it is a folder already; prints the folder holding setup.py
# and requirements.txt.
odoo_source_folder() {
    local source=${ODOO_SOURCE_GIVEN:-$(official_source_url "$SERIES")} unpacked="$VENV_DIR/odoo-src"
    if [ -d "$source" ]; then
        (cd "$source" && pwd)
        return 0
    fi
    rm -rf "$unpacked" && mkdir -p "$unpacked"
    case "$source" in
        http://* | https://*)
            say "downloading Odoo $SERIES from $source (a few hundred MB)" >&2
            "$BASE_PYTHON" - "$source" "$unpacked/odoo.tar.gz" <<'PY' ||
import shutil, sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=60) as answer, open(sys.argv[2], "wb") as out:
    shutil.copyfileobj(answer, out)
PY
                die "could not download Odoo $SERIES from $source: set ODOO_SOURCE_${SERIES%%.*} to a local Odoo $SERIES folder or archive."
            source="$unpacked/odoo.tar.gz"
            ;;
    esac
    [ -f "$source" ] || die "the Odoo $SERIES source $source is neither a folder nor an archive."
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
    local source major=${SERIES%%.*}
    say "no Python here imports Odoo $SERIES: setting up $VENV_DIR (once; later runs and other clones reuse it)"
    mkdir -p "$CACHE_DIR" || die "cannot create $CACHE_DIR (set XDG_CACHE_HOME or PARTNER_WEBSITE_LOGIN_CACHE)."
    "$BASE_PYTHON" -m venv --clear "$VENV_DIR" ||
        die "python3 -m venv failed (on Debian: apt-get install python3-venv)."
    source=$(odoo_source_folder) || exit 2
    [ -f "$source/requirements.txt" ] && [ -f "$source/odoo/release.py" ] ||
        die "$source is not an Odoo source folder (no requirements.txt or odoo/release.py)."
    grep -q "^version_info = ($major, 0" "$source/odoo/release.py" ||
        die "$source is not Odoo $SERIES."
    install_debian_build_packages
    if grep -q "^python-magic" "$source/requirements.txt"; then
        DEBIAN_BUILD_PACKAGES=(libmagic1)  # python-magic loads it (Odoo 19.0 and later)
        install_debian_build_packages
    fi
    local pip=("$VENV_DIR/bin/python" -m pip install --quiet --disable-pip-version-check)
    if grep -q "^cbor2==5.4.2" "$source/requirements.txt"; then
        # cbor2 5.4.2's setup needs setuptools_scm < 8 and a setuptools without the
        # newer metadata checks; with them it builds and works unchanged.
        say "cbor2 5.4.2 (pinned by Odoo) no longer builds with current setuptools: building it with setuptools<70 and setuptools_scm<8"
        "${pip[@]}" "setuptools<70" wheel "setuptools_scm<8" &&
            SETUPTOOLS_SCM_PRETEND_VERSION=5.4.2 "${pip[@]}" --no-build-isolation cbor2==5.4.2 ||
            die "could not build cbor2 5.4.2."
    fi
    say "installing Odoo $SERIES's requirements.txt into $VENV_DIR (a few minutes, once)"
    "${pip[@]}" -r "$source/requirements.txt" || die "pip could not install Odoo's requirements."
    "${pip[@]}" --no-deps -e "$source" || die "pip could not install Odoo from $source."
    imports_odoo "$VENV_DIR/bin/python" "$SERIES" || die "Odoo $SERIES does not import in $VENV_DIR."
    # written last: a set-up cut short is made again at the next run
    echo "${ODOO_SOURCE_GIVEN:-$(official_source_url "$SERIES")}" >"$VENV_DIR/odoo-source"
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

# Odoo imports the addon as odoo.addons.partner_website_login: the addon must sit on
# the addons path under that name, whatever the clone is called. For ROOT_SERIES it
# is the checkout itself; another series is made from it (scripts/make_series.py).
# Sets ADDONS_DIR (removed by the caller), ADDON_DIR and ADDONS_PATH.
link_addon() {
    ADDONS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/${ADDON}-addons.XXXXXX")
    ADDON_DIR="$ADDONS_DIR/$ADDON"
    if [ "$SERIES" = "$ROOT_SERIES" ]; then
        ln -s "$REPO_ROOT" "$ADDON_DIR"
    else
        "$PY" "$REPO_ROOT/scripts/make_series.py" "$SERIES" "$ADDON_DIR" >/dev/null ||
            die "scripts/make_series.py could not make the $SERIES addon."
    fi
    ADDONS_PATH="$ODOO_ADDONS,$ADDONS_DIR"
}

odoo_bin() {
    "$PY" -m odoo "$@"
}

# require_program PROGRAM PACKAGE PURPOSE: Debian's PACKAGE where PROGRAM is missing
# and we may install it (root with apt-get); otherwise says what to run.
require_program() {
    local program=$1 package=$2 purpose=$3
    command -v "$program" >/dev/null 2>&1 && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing Debian's $package $purpose"
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null; } ||
            die "apt-get could not install $package."
    else
        die "$program is needed $purpose: sudo apt-get install $package"
    fi
}

# Odoo's browser tests drive a headless Chromium: Google Chrome will do as well.
require_chromium() {
    command -v google-chrome >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 ||
        require_program chromium chromium "for the browser test"
}
