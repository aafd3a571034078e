#!/usr/bin/env bash
# Tier 2: real PostgreSQL (PG_CONFIG, default 15) with citus-sidecar preloaded and the Citus TEST DOUBLE
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
echo "tier2: $("$PG_CONFIG" --version) + citus-sidecar + Citus TEST DOUBLE on 127.0.0.1:$port"
pg_start "$tmp/data" "$port" "citus-sidecar" || exit 1

pq "$port" -d postgres -c "CREATE DATABASE sidecar_regress" || exit 1
# The double plays the Citus that runs on this PostgreSQL: 13.2 on 15, 14.0 on 16 and later.
flavour=13; [ "$PG_MAJOR" -ge 16 ] && flavour=14
pq "$port" -d postgres -c "ALTER DATABASE sidecar_regress SET citus_double.major = $flavour" || exit 1
echo "tier2: the test double plays Citus $flavour"
pq "$port" -d sidecar_regress -f tests/citus_double/citus_double.sql >/dev/null || exit 1
pq "$port" -d sidecar_regress -c 'CREATE EXTENSION "citus-sidecar"' || exit 1

if [ $# -gt 0 ]; then tests=("$@"); else
    tests=(); for f in tests/regress/sql/*.sql; do tests+=("$(basename "$f" .sql)"); done
fi
run_goldens tests/regress "$port" sidecar_regress "$tmp/out" "${tests[@]}"

# Loading outside shared_preload_libraries must be refused with the exact line to add.
port2="$(free_port)"
pg_start "$tmp/plain" "$port2" "" || exit 1
load_msg="$(pq "$port2" -d postgres -c "LOAD 'citus-sidecar'" 2>&1)"
if grep -q "can only be loaded via shared_preload_libraries" <<<"$load_msg" \
   && grep -q "shared_preload_libraries = 'citus,citus-sidecar'" <<<"$load_msg"; then
    echo "  ok     load_outside_preload"; load_ok=1
else
    echo "  FAILED load_outside_preload: $load_msg"; load_ok=0
fi

# Errors that are PostgreSQL's reach the client as PostgreSQL raised them, and no DETAIL ever
# carries a Rust backtrace, even when the server's environment asks for backtraces; an over-deep
# script is a clear ERROR and the server lives on.
bt_ok=1
port4="$(free_port)"
RUST_BACKTRACE=1 pg_start "$tmp/backtrace" "$port4" "citus-sidecar" || exit 1
pq "$port4" -d postgres -f tests/citus_double/citus_double.sql >/dev/null
pq "$port4" -d postgres -c 'CREATE EXTENSION "citus-sidecar"' \
   -c "CREATE ROLE outsider LOGIN" -c "CREATE SCHEMA closed" -c "CREATE TABLE closed.t (a int)" >/dev/null
deep="$(pq "$port4" -d postgres -c "SELECT * FROM citus_sidecar.check_ddl('SELECT 1' || repeat('+1', 100000))" 2>&1)"
denied="$(pq "$port4" -d postgres -c "SET ROLE outsider" -c "ALTER TABLE closed.t ADD COLUMN b int" 2>&1)"
alive="$(pq "$port4" -d postgres -Atc "SELECT 'alive'" 2>&1)"
if grep -q "nested too deeply to check" <<<"$deep" && ! grep -qi "backtrace\|src/.*\.rs" <<<"$deep$denied" \
   && [ "$denied" = "ERROR:  permission denied for schema closed" ] && [ "$alive" = alive ]; then
    echo "  ok     errors_pass_through_without_backtraces"
else
    echo "  FAILED errors_pass_through_without_backtraces: $deep / $denied / $alive"; bt_ok=0
fi

# The checksum background worker, for real: it records snapshots on its own, flags a change made
# behind the guard's back with a WARNING in the server log, idles after DROP EXTENSION, and is
# started once (no restart loop).
worker_ok=1
port3="$(free_port)"
pg_start "$tmp/worker" "$port3" "citus_sidecar" "citus_sidecar.database = 'postgres, no_such_db'" "citus_sidecar.checksum_interval = 1" || exit 1
pq "$port3" -d postgres -f tests/citus_double/citus_double.sql >/dev/null
pq "$port3" -d postgres -c 'CREATE EXTENSION "citus-sidecar"' \
   -c "CREATE TABLE users (user_id bigint PRIMARY KEY)" \
   -c "SELECT create_distributed_table('users', 'user_id', shard_count => 4)" >/dev/null
wait_for() {  # wait_for SECONDS COMMAND...: until COMMAND succeeds
    local n=$(( $1 * 4 )); shift
    while [ $n -gt 0 ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.25; n=$((n - 1)); done
    return 1
}
snapshot_has_users() { [ "$(pq "$port3" -d postgres -At -c "SELECT count(*) FROM citus_sidecar.metadata_snapshot WHERE object_kind = 'table' AND object_name = 'public.users'")" = 1 ]; }
if wait_for 20 snapshot_has_users; then echo "  ok     worker_records_snapshots"; else echo "  FAILED worker_records_snapshots"; worker_ok=0; fi
pq "$port3" -d postgres -c "SET citus_sidecar.mode = 'off'" -c "UPDATE pg_dist_shard SET shardmaxvalue = '0' WHERE shardid = (SELECT min(shardid) FROM pg_dist_shard)" >/dev/null
unexpected_users() { [ "$(pq "$port3" -d postgres -At -c "SELECT count(*) FROM citus_sidecar.unexpected_metadata_changes WHERE kind = 'change' AND table_name = 'public.users'")" -ge 1 ]; }
if wait_for 20 unexpected_users && grep -q "unexpected change of Citus metadata on coordinator, public.users" "$tmp/worker.log"; then
    echo "  ok     worker_warns_on_unexpected_change"; else echo "  FAILED worker_warns_on_unexpected_change"; worker_ok=0; fi
# an error in one snapshot (a lock it cannot get within its lock_timeout) is a WARNING, and the
# next snapshot works
marker() { pq "$port3" -d postgres -At -c "SELECT last_snapshot_at FROM citus_sidecar.checksum_state WHERE node = 'coordinator'"; }
pq "$port3" -d postgres -c "BEGIN" -c "LOCK TABLE citus_sidecar.checksum_state IN ACCESS EXCLUSIVE MODE" -c "SELECT pg_sleep(2.5)" -c "COMMIT" >/dev/null
before="$(marker)"
snapshot_moved() { [ "$(marker)" != "$before" ]; }
if grep -q "this checksum snapshot failed, the next one will try again" "$tmp/worker.log" && wait_for 20 snapshot_moved; then
    echo "  ok     worker_survives_a_failed_snapshot"; else echo "  FAILED worker_survives_a_failed_snapshot"; worker_ok=0; fi
# new settings on reload: interval 0 pauses the snapshots
pq "$port3" -d postgres -c "ALTER SYSTEM SET citus_sidecar.checksum_interval = 0" -c "SELECT pg_reload_conf()" >/dev/null
sleep 2; before="$(marker)"; sleep 3
if [ "$(marker)" = "$before" ]; then echo "  ok     worker_reloads_settings"; else echo "  FAILED worker_reloads_settings"; worker_ok=0; fi
pq "$port3" -d postgres -c "ALTER SYSTEM SET citus_sidecar.checksum_interval = 1" -c "SELECT pg_reload_conf()" >/dev/null
pq "$port3" -d postgres -c 'DROP EXTENSION "citus-sidecar"' >/dev/null
if wait_for 20 grep -q 'the extension or Citus is not installed in "postgres"; the checksum worker idles' "$tmp/worker.log"; then
    echo "  ok     worker_idles_after_drop_extension"; else echo "  FAILED worker_idles_after_drop_extension"; worker_ok=0; fi
missing=$(grep -c 'database "no_such_db" (citus_sidecar.database) does not exist; the checksum worker waits for it' "$tmp/worker.log")
if [ "$missing" = 1 ]; then echo "  ok     worker_missing_database_said_once"; else echo "  FAILED worker_missing_database_said_once ($missing)"; worker_ok=0; fi
starts=$(grep -c 'checksum worker started in database "postgres"' "$tmp/worker.log")
if [ "$starts" = 1 ]; then echo "  ok     worker_started_once"; else echo "  FAILED worker_started_once ($starts starts)"; worker_ok=0; fi
[ $worker_ok = 1 ] || { echo "---- worker log ----"; grep -i sidecar "$tmp/worker.log" | tail -20; }

passed=$(( GOLDEN_PASSED + load_ok + worker_ok + bt_ok ))
failed=$(( GOLDEN_FAILED + 1 - load_ok + 1 - worker_ok + 1 - bt_ok ))
echo "tier2: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
