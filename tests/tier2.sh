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
run_goldens tests/regress "$port" sidecar_regress "$tmp/out" "${tests[@]}"

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

passed=$(( GOLDEN_PASSED + load_ok ))
failed=$(( GOLDEN_FAILED + 1 - load_ok ))
echo "tier2: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
