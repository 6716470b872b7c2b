#!/usr/bin/env bash
# Runs every check of the addon on real Odoo 18 and PostgreSQL: the tests in a
# throwaway database, the crash-recovery check, the uninstall check, pylint-odoo, ruff and the wheel. Exit code
# 0 only if all pass.
# Usage: scripts/test.sh [--only-tests] [odoo test tags, default /partner_website_login]
set -uo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "$0")/common.sh"

ONLY_TESTS=0
if [ "${1:-}" = "--only-tests" ]; then
    ONLY_TESTS=1
    shift
fi
TEST_TAGS=${1:-/$ADDON}

require_odoo
require_postgres
pip_install "pylint-odoo>=10,<11" "ruff>=0.6" "aiosmtpd>=1.4" "hypothesis>=6" "whool>=1.0" \
    "websocket-client"
link_addon

DB="${ADDON}_test_$$"
LOG=$(mktemp "${TMPDIR:-/tmp}/${ADDON}-test.XXXXXX.log")
cleanup() {
    python3 - "$DB" <<'PY' >/dev/null 2>&1
import sys, psycopg2
conn = psycopg2.connect(dbname="postgres")
conn.autocommit = True
conn.cursor().execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % sys.argv[1])
PY
    rm -rf "$ADDONS_DIR"
}
trap cleanup EXIT

failed=0
echo "== tests: Odoo $(python3 -c 'import odoo.release as r; print(r.version)'), database $DB (log: $LOG)"
odoo_bin --addons-path="$ADDONS_PATH" -d "$DB" -i "$ADDON" \
    --test-enable --test-tags "$TEST_TAGS" --stop-after-init \
    --http-interface 127.0.0.1 --http-port "$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')" \
    --log-level=info --log-handler=odoo.tests:INFO >"$LOG" 2>&1
odoo_rc=$?
python3 "$REPO_ROOT/scripts/summarize_test_log.py" "$LOG" "$odoo_rc" || failed=1

echo "== crash recovery"
python3 "$REPO_ROOT/scripts/check_crash_recovery.py" "$DB" "$ADDONS_PATH" || failed=1

echo "== uninstall"
python3 "$REPO_ROOT/scripts/check_uninstall.py" "$DB" "$ADDONS_PATH" || failed=1

if [ "$ONLY_TESTS" = 0 ]; then
    echo "== ruff"
    (cd "$REPO_ROOT" && ruff check . && ruff format --check .) || failed=1
    echo "== pylint-odoo"
    (cd "$ADDONS_DIR" && pylint --rcfile="$REPO_ROOT/.pylintrc" "$ADDON") || failed=1
    echo "== wheel"
    python3 "$REPO_ROOT/scripts/check_wheel.py" || failed=1
fi

if [ "$failed" = 0 ]; then
    echo "ALL CHECKS PASSED"
else
    echo "SOME CHECKS FAILED"
fi
exit "$failed"
