#!/usr/bin/env bash
# Tier 2: real PostgreSQL 15 with citus_sidecar preloaded and the Citus TEST DOUBLE
# (tests/citus_double/citus_double.sql) loaded into the test database. Golden SQL tests in
# tests/regress/{sql,expected}, run with pg_regress. Assumes the extension is installed
# (scripts/install.sh). Prints "tier2: N passed, M failed" and exits non-zero on failure.
#   tests/tier2.sh [test ...]      run some tests only
#   ACCEPT=1 tests/tier2.sh        overwrite expected/ with the results (review the diff!)
set -uo pipefail
cd "$(dirname "$0")/.."
source tests/lib/pg.sh
trap pg_cleanup EXIT

PG_REGRESS="$("$PG_BIN/pg_config" --pgxs | xargs dirname)/../test/regress/pg_regress"
tmp="$(pg_tempdir)"
port="$(free_port)"
echo "tier2: PostgreSQL 15 + citus_sidecar + Citus TEST DOUBLE on 127.0.0.1:$port"
pg_start "$tmp/data" "$port" "citus_sidecar" || exit 1

pq "$port" -d postgres -c "CREATE DATABASE sidecar_regress" || exit 1
pq "$port" -d sidecar_regress -f tests/citus_double/citus_double.sql >/dev/null || exit 1
pq "$port" -d sidecar_regress -c 'CREATE EXTENSION "citus-sidecar"' || exit 1

if [ $# -gt 0 ]; then tests=("$@"); else
    tests=(); for f in tests/regress/sql/*.sql; do tests+=("$(basename "$f" .sql)"); done
fi
out="$tmp/out"; mkdir -p "$out"
"$PG_REGRESS" --use-existing --host=127.0.0.1 --port="$port" --user=postgres \
    --dbname=sidecar_regress --bindir="$PG_BIN" \
    --inputdir=tests/regress --outputdir="$out" "${tests[@]}" >"$out/pg_regress.log" 2>&1
rc=$?
grep -E '^(test|ok|not ok|     ) ' "$out/pg_regress.log" | sed 's/^/  /'
if [ -n "${ACCEPT:-}" ]; then
    for t in "${tests[@]}"; do cp "$out/results/$t.out" "tests/regress/expected/$t.out"; done
    echo "tier2: accepted results into tests/regress/expected (review with git diff)"
fi
if [ $rc -ne 0 ] && [ -f "$out/regression.diffs" ]; then
    echo "---- regression.diffs ----"; cat "$out/regression.diffs"
fi

# Loading outside shared_preload_libraries must be refused with the exact line to add.
port2="$(free_port)"
pg_start "$tmp/plain" "$port2" "" || exit 1
load_msg="$(pq "$port2" -d postgres -c "LOAD 'citus_sidecar'" 2>&1)"
if grep -q "can only be loaded via shared_preload_libraries" <<<"$load_msg" \
   && grep -q "shared_preload_libraries = 'citus,citus_sidecar'" <<<"$load_msg"; then
    echo "  ok     load_outside_preload"; load_ok=1
else
    echo "  FAILED load_outside_preload: $load_msg"; load_ok=0
fi

failed=$(grep -cE '(FAILED|failed \(ignored\))' "$out/pg_regress.log" || true)
passed=$(( ${#tests[@]} - failed + load_ok ))
failed=$(( failed + 1 - load_ok ))
[ $rc -eq 0 ] || [ "$failed" -gt 0 ] || failed=1
echo "tier2: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
