#!/usr/bin/env bash
# Runs every check of the addon on real Odoo and PostgreSQL, for each Odoo series
# given (default: the root's, 18.0): the tests in a throwaway database, again in
# one with Odoo's webshop (website_sale, and auth_totp_portal: the tests that need
# a website or two-factor run there and are skipped in the first), the install
# on a plain Odoo, the crash-recovery, lockout and uninstall checks, Odoo's own
# tests once without the addon and once with it (scripts/check_odoo_suites.py), ruff,
# pylint-odoo (with the series' valid-odoo-versions), OCA's module checks, README
# freshness and the wheel. Exit code 0, and ALL CHECKS PASSED, only if all pass on
# every series. Sets up what is missing first: each series' Odoo (see common.sh),
# the PostgreSQL role, Chromium, the Python test tools.
# Usage: scripts/test.sh [--only-tests] [SERIES ...] [odoo test tags]
#   e.g. scripts/test.sh 18.0 19.0      (the README's test command, and CI's)
set -uo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "$0")/common.sh"

ONLY_TESTS=0
if [ "${1:-}" = "--only-tests" ]; then
    ONLY_TESTS=1
    shift
fi
parse_series "$@"
TEST_TAGS=${OTHER_ARGS[0]:-/$ADDON}

LOG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/${ADDON}-test.XXXXXX")
DB=""
SHOP_DB=""
# The second test database's extra addons: the webshop as a shop owner runs it
SHOP_MODULES=website_sale,auth_totp_portal
drop_db() {
    [ -n "$1" ] || return 0
    "$PY" - "$1" <<'PY' >/dev/null 2>&1
import sys, psycopg2
conn = psycopg2.connect(dbname="postgres")
conn.autocommit = True
conn.cursor().execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % sys.argv[1])
PY
}
cleanup() {
    drop_db "$DB"
    drop_db "$SHOP_DB"
    [ -n "${ADDONS_DIR:-}" ] && rm -rf "$ADDONS_DIR"
    DB=""
    SHOP_DB=""
    ADDONS_DIR=""
}

# run_tests DB MODULES LOG: installs MODULES in a new DB and runs the test tags;
# prints the summary, returns 1 on any failure
run_tests() {
    odoo_bin --addons-path="$ADDONS_PATH" -d "$1" -i "$2" "${with_demo[@]}" \
        --test-enable --test-tags "$TEST_TAGS" --stop-after-init \
        --http-interface 127.0.0.1 --http-port "$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')" \
        --log-level=info --log-handler=odoo.tests:INFO >"$3" 2>&1
    "$PY" "$REPO_ROOT/scripts/summarize_test_log.py" "$3" "$?"
}

# run_series SERIES: every check on that series; returns 1 if one failed
run_series() {
    local failed=0 with_demo=() log
    trap cleanup EXIT
    require_odoo "$1"
    require_postgres
    pip_install -r "$REPO_ROOT/test-requirements.txt" -r "$REPO_ROOT/scripts/check-requirements.txt"
    link_addon
    # 19.0 installs demo data only when asked (the tests use it)
    [ "${SERIES%%.*}" -ge 19 ] && with_demo=(--with-demo)
    DB="${ADDON}_test_${SERIES%%.*}_$$"
    log="$LOG_DIR/tests-$SERIES.log"
    echo "== [$SERIES] tests: database $DB (log: $log)"
    run_tests "$DB" "$ADDON" "$log" || failed=1

    SHOP_DB="${ADDON}_shop_${SERIES%%.*}_$$"
    log="$LOG_DIR/tests-$SERIES-webshop.log"
    echo "== [$SERIES] tests with the webshop ($SHOP_MODULES): database $SHOP_DB (log: $log)"
    run_tests "$SHOP_DB" "$ADDON,$SHOP_MODULES" "$log" || failed=1
    drop_db "$SHOP_DB"
    SHOP_DB=""

    echo "== [$SERIES] install on a plain Odoo"
    "$PY" "$REPO_ROOT/scripts/check_plain_install.py" "$ADDONS_PATH" || failed=1

    echo "== [$SERIES] crash recovery"
    "$PY" "$REPO_ROOT/scripts/check_crash_recovery.py" "$DB" "$ADDONS_PATH" || failed=1

    echo "== [$SERIES] lockout across two servers"
    "$PY" "$REPO_ROOT/scripts/check_lockout.py" "$DB" "$ADDONS_PATH" || failed=1

    echo "== [$SERIES] uninstall"
    "$PY" "$REPO_ROOT/scripts/check_uninstall.py" "$DB" "$ADDONS_PATH" || failed=1

    echo "== [$SERIES] the demo's mail catcher"
    "$PY" "$REPO_ROOT/scripts/check_mail_catcher.py" || failed=1

    echo "== [$SERIES] Odoo's own tests beside the addon"
    "$PY" "$REPO_ROOT/scripts/check_odoo_suites.py" "$ADDONS_PATH" "$LOG_DIR" || failed=1

    if [ "$ONLY_TESTS" = 0 ]; then
        echo "== [$SERIES] ruff"
        # the checkout (scripts included), and the series' addon as made
        (cd "$REPO_ROOT" && "$PY" -m ruff check . && "$PY" -m ruff format --check .) || failed=1
        if [ "$SERIES" != "$ROOT_SERIES" ]; then
            (cd "$ADDON_DIR" && "$PY" -m ruff check . && "$PY" -m ruff format --check .) || failed=1
        fi
        # OCA's two rc files; they still name checks that pylint-odoo 10 moved to
        # oca-checks-odoo-module (run below), hence unknown-option-value. The
        # manifest's version must be of the series checked.
        echo "== [$SERIES] pylint-odoo (OCA's mandatory and optional checks)"
        for rcfile in .pylintrc-mandatory .pylintrc; do
            (cd "$ADDONS_DIR" && "$PY" -m pylint --rcfile="$REPO_ROOT/$rcfile" \
                --valid-odoo-versions="$SERIES" \
                --disable=unknown-option-value "$ADDON") || failed=1
        done
        echo "== [$SERIES] oca-checks-odoo-module, oca-checks-po"
        "$PY" "$REPO_ROOT/scripts/check_oca.py" "$SERIES" || failed=1
        echo "== [$SERIES] README.rst from readme/"
        if command -v pandoc >/dev/null 2>&1; then
            "$PY" "$REPO_ROOT/scripts/gen_readme.py" --check || failed=1
        else
            echo "FAIL: pandoc is not installed (apt-get install pandoc)"
            failed=1
        fi
        echo "== [$SERIES] wheel"
        "$PY" "$REPO_ROOT/scripts/check_wheel.py" "$SERIES" || failed=1
    fi
    cleanup
    return "$failed"
}

require_chromium
# README.rst is checked against readme/ by converting it again
[ "$ONLY_TESTS" = 0 ] && require_program pandoc pandoc "for the README check"
overall=0
results=()
for series in "${SERIES_LIST[@]}"; do
    # each series in a subshell: a missing Odoo (die) fails that series, loudly
    (run_series "$series")
    rc=$?
    if [ "$rc" = 0 ]; then
        results+=("$series: passed")
    else
        results+=("$series: FAILED")
        overall=1
    fi
done
echo "== summary: ${results[*]}"
if [ "$overall" = 0 ]; then
    echo "ALL CHECKS PASSED"
else
    echo "SOME CHECKS FAILED"
fi
exit "$overall"
