#!/usr/bin/env bash
# Runs the addon locally: database partner_website_login_demo with demo data, a mail
# catcher on 127.0.0.1 as its outgoing mail server (its mails readable on
# http://127.0.0.1:1080), Odoo on http://127.0.0.1:8069. Sets up what is missing
# first (the series' Odoo and the PostgreSQL role, see common.sh); run again, it
# reuses all of it and the database. Ctrl-C stops everything it started.
# Usage: scripts/demo.sh [--shop] [SERIES]   (18.0, the default, or 19.0)
#   --shop: with Odoo's webshop (website_sale) in its own database (..._shop), a
#   few products, and the demo contacts as its customers (scripts/demo_shop.py)
# Environment: DEMO_DB, DEMO_HTTP_PORT (8069), DEMO_SMTP_PORT (2525),
# DEMO_MAIL_PORT (1080), PG* for PostgreSQL, ODOO_PYTHON / ODOO_SOURCE for Odoo.
# One database per series: partner_website_login_demo (18.0), ..._demo_19 (19.0).
set -uo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "$0")/common.sh"

SHOP=0
if [ "${1:-}" = "--shop" ]; then
    SHOP=1
    shift
fi
parse_series "$@"
[ ${#SERIES_LIST[@]} = 1 ] && [ ${#OTHER_ARGS[@]} = 0 ] ||
    die "usage: scripts/demo.sh [--shop] [SERIES] (one of ${SUPPORTED_SERIES[*]})"
DEMO_SERIES=${SERIES_LIST[0]}
DB_SUFFIX=""
[ "$SHOP" = 1 ] && DB_SUFFIX=_shop
if [ "$DEMO_SERIES" = "$ROOT_SERIES" ]; then
    DB=${DEMO_DB:-${ADDON}_demo$DB_SUFFIX}
else
    DB=${DEMO_DB:-${ADDON}_demo_${DEMO_SERIES%%.*}$DB_SUFFIX}
fi
MODULES=$ADDON
[ "$SHOP" = 1 ] && MODULES=$ADDON,website_sale
HTTP_PORT=${DEMO_HTTP_PORT:-8069}
SMTP_PORT=${DEMO_SMTP_PORT:-2525}
MAIL_PORT=${DEMO_MAIL_PORT:-1080}
MAIL_DIR="$REPO_ROOT/var/demo-mails"

require_odoo "$DEMO_SERIES"
require_postgres
pip_install "aiosmtpd>=1.4"
link_addon

pids=()
stop_all() {
    trap - INT TERM EXIT
    echo
    echo "Stopping Odoo and the mail catcher ..."
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$ADDONS_DIR"
    exit 0
}
trap stop_all INT TERM EXIT

"$PY" - "$HTTP_PORT" "$SMTP_PORT" "$MAIL_PORT" 2>/dev/null <<'PY' || die "port $HTTP_PORT, $SMTP_PORT or $MAIL_PORT on 127.0.0.1 is in use: stop what uses it, or set DEMO_HTTP_PORT / DEMO_SMTP_PORT / DEMO_MAIL_PORT."
import socket, sys
for port in sys.argv[1:]:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do
        sock.bind(("127.0.0.1", int(port)))
PY

"$PY" "$REPO_ROOT/scripts/mail_catcher.py" --port "$SMTP_PORT" --web-port "$MAIL_PORT" \
    --dir "$MAIL_DIR" &
pids+=($!)

installed=$("$PY" - "$DB" "$ADDON" <<'PY'
import sys, psycopg2
try:
    conn = psycopg2.connect(dbname=sys.argv[1])
except psycopg2.OperationalError:
    print("no database")
    sys.exit()
cr = conn.cursor()
cr.execute("SELECT state FROM ir_module_module WHERE name = %s", (sys.argv[2],))
row = cr.fetchone()
print(row[0] if row else "not installed")
PY
)
if [ "$installed" = installed ]; then
    echo "== reusing database $DB (updating the addon)"
    action=(-u "$ADDON")
else
    echo "== creating database $DB with demo data (about a minute)"
    action=(-i "$MODULES")
    # 19.0 installs demo data only when asked
    [ "${SERIES%%.*}" -ge 19 ] && action+=(--with-demo)
fi
odoo_bin --addons-path="$ADDONS_PATH" -d "$DB" "${action[@]}" \
    --stop-after-init --no-http --log-level=warn || die "Odoo could not install $ADDON into $DB."

# The outgoing mail server is the catcher; links in mails point at this server.
odoo_bin shell --addons-path="$ADDONS_PATH" -d "$DB" --no-http --log-level=warn \
    >/dev/null <<PY || die "could not configure the outgoing mail server of $DB."
server = env["ir.mail_server"].search([("name", "=", "Demo mail catcher")])
values = {"name": "Demo mail catcher", "smtp_host": "127.0.0.1",
          "smtp_port": $SMTP_PORT, "smtp_encryption": "none", "sequence": 1}
server.write(values) if server else server.create(values)
env["ir.config_parameter"].set_param("web.base.url", "http://127.0.0.1:$HTTP_PORT")
env.cr.commit()
PY

if [ "$SHOP" = 1 ]; then
    odoo_bin shell --addons-path="$ADDONS_PATH" -d "$DB" --no-http --log-level=warn \
        <"$REPO_ROOT/scripts/demo_shop.py" || die "could not set up the demo shop in $DB."
    SHOP_INFO="
  Shop:          http://127.0.0.1:$HTTP_PORT/shop  (order as a guest, then \"Sign Up\"
                 on the confirmation; hana.green follows her orders in My Account)"
else
    SHOP_INFO=""
fi

cat <<INFO

  Odoo:          http://127.0.0.1:$HTTP_PORT  (login admin, password admin)
  Try:           Contacts > Ada Eligible > Random Password Mail,
                 or Settings > Website Login > Send Bulk Website Invite;
                 log in as hana.green (password hana.green), Green Leaf Retail's
                 Website Administrator: My Account > Colleagues$SHOP_INFO
  Caught mails:  http://127.0.0.1:$MAIL_PORT  (also listed below as they arrive,
                 and saved as .eml in $MAIL_DIR)
  Stop:          Ctrl-C

INFO
# Odoo's python itself in the background (not the odoo_bin function's subshell), so
# that the pid kept is Odoo's
"$PY" -m odoo --addons-path="$ADDONS_PATH" -d "$DB" --db-filter="^$DB\$" \
    --http-interface=127.0.0.1 --http-port="$HTTP_PORT" --log-level=warn &
pids+=($!)
wait -n "${pids[@]}"
