#!/usr/bin/env bash
# Generated migration scripts thrown at check_ddl (tests/robustness/gen_scripts.py: every
# statement kind of PostgreSQL's grammar alone, long chains, deep nesting of every kind of
# expression, odd distribution calls, metadata edits, psql meta-commands and COPY data, garbage,
# and random mixes). Each must give a result or a clear ERROR (a SQLSTATE other than XX000, no
# panic text), and the server must live through all of them: no backend lost, nothing in the log
# about a signal. Bounded: ROBUSTNESS_SECONDS (default 120) of random scripts after the fixed
# ones. Prints "robustness: N passed, M failed".
#   tests/robustness.sh [SEED]
set -uo pipefail
cd "$(dirname "$0")/.."
source tests/lib/pg.sh
trap pg_cleanup EXIT
seed="${1:-$(date +%j)}"
budget="${ROBUSTNESS_SECONDS:-120}"

tmp="$(pg_tempdir)"; port="$(free_port)"
pg_start "$tmp/data" "$port" "citus-sidecar" || { echo "robustness: 0 passed, 1 failed"; exit 1; }
pq "$port" -d postgres -f tests/citus_double/citus_double.sql >/dev/null
pq "$port" -d postgres -c 'CREATE EXTENSION "citus-sidecar"' \
   -c "CREATE TABLE users (user_id bigint PRIMARY KEY)" \
   -c "SELECT create_distributed_table('users', 'user_id', shard_count => 4)" >/dev/null
as_pg mkdir -p "$tmp/scripts"
total="$(as_pg python3 tests/robustness/gen_scripts.py "$seed" 2000 "$tmp/scripts")"
echo "robustness: seed $seed, $total scripts (fixed ones first), ${budget}s for the random ones"

passed=0; failed=0; ran=0; errors=0
start=$(date +%s)
fixed=$(python3 -c 'import sys; sys.path.insert(0, "tests/robustness"); import gen_scripts as g; print(len(g.STATEMENTS) + 11)')
for f in "$tmp"/scripts/*.sql; do
    n=$((10#$(basename "$f" .sql)))
    if [ "$n" -ge "$fixed" ] && [ $(( $(date +%s) - start )) -ge "$budget" ]; then break; fi
    out="$("$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v VERBOSITY=verbose \
          -c '\set VERBOSITY verbose' -c "SELECT count(*) FROM citus_sidecar.check_ddl(pg_read_file('$f'))" 2>&1)"
    rc=$?
    ran=$((ran + 1))
    if [ $rc -eq 0 ]; then
        passed=$((passed + 1))
    elif grep -qE '^ERROR:  [0-9A-Z]{5}:' <<<"$out" && ! grep -qE 'ERROR:  XX000|panicked|unreachable|server closed|FATAL|PANIC' <<<"$out"; then
        passed=$((passed + 1)); errors=$((errors + 1))
    else
        failed=$((failed + 1))
        echo "  FAILED $(basename "$f"): $(head -c 300 <<<"$out" | tr '\n' ' ')"
        echo "         script: $(head -c 200 "$f" | tr '\n' ' ')"
    fi
done
alive="$(pq "$port" -d postgres -Atc "SELECT 'alive'" 2>&1)"
if [ "$alive" = alive ] && ! grep -qE "terminated by signal|was terminated|PANIC" "$tmp/data.log"; then
    passed=$((passed + 1)); echo "  ok     the server lived through $ran scripts ($errors clear ERRORs)"
else
    failed=$((failed + 1)); echo "  FAILED the server did not live through them:"; grep -E "signal|PANIC" "$tmp/data.log" | head -5
fi
echo "robustness: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
