# Shared by scripts/test.sh and scripts/demo.sh: checks the two prerequisites and
# puts the checkout on an addons path under its technical name.
# shellcheck shell=bash

ADDON=partner_website_login
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

die() {
    echo "ERROR: $*" >&2
    exit 2
}

require_odoo() {
    local version
    version=$(python3 -c 'import odoo.release as r; print(r.version)' 2>/dev/null) ||
        die "python3 cannot import Odoo. Install Odoo 18.0 into this python3 (pip install -e <odoo checkout>), then run again."
    case "$version" in
        18.*) ;;
        *) die "python3 imports Odoo $version; this addon needs Odoo 18.0." ;;
    esac
    ODOO_ADDONS=$(python3 -c 'import os, odoo; root = os.path.dirname(os.path.dirname(odoo.__file__)); print(",".join(p for p in (os.path.join(root, "addons"), os.path.join(root, "odoo", "addons")) if os.path.isdir(p)))')
}

require_postgres() {
    python3 - <<'PY' || die "no PostgreSQL answers at ${PGHOST:-the default socket}:${PGPORT:-5432} as ${PGUSER:-$(id -un)}. Start it, or set PGHOST, PGPORT, PGUSER and PGPASSWORD (a role that may create databases, not 'postgres': Odoo refuses that one)."
import psycopg2
psycopg2.connect(dbname="postgres", connect_timeout=5).close()
PY
}

pip_install() {
    python3 -m pip install --quiet --disable-pip-version-check "$@" >/dev/null 2>&1 ||
        python3 -m pip install --disable-pip-version-check "$@" ||
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
    python3 -m odoo "$@"
}
