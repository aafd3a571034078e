#!/usr/bin/env bash
# The sidecar doing its main job, narrated. Builds and installs the extension, starts a
# throwaway cluster on free loopback ports in a temp dir, creates the extension, replays the
# incident it exists for, and stops everything it started.
#   - with citus.so installed: a real Citus coordinator and two workers;
#   - without it: one PostgreSQL server with the Citus TEST DOUBLE (tests/citus_double).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
scripts/setup.sh >/dev/null
echo "== building and installing citus-sidecar (release)"
scripts/install.sh
source tests/lib/pg.sh
source tests/lib/cluster.sh
trap pg_cleanup EXIT

if have_citus; then
    echo "== starting a real Citus cluster: coordinator + 2 workers, shared_preload_libraries = 'citus,citus-sidecar'"
    cluster_start demo
    port=$COORD_PORT
else
    echo "Citus is not installed here, so this demo runs on the Citus TEST DOUBLE (tests/citus_double), not real Citus."
    tmp="$(pg_tempdir)"; port="$(free_port)"
    pg_start "$tmp/data" "$port" "citus-sidecar"
    pq "$port" -d postgres -c "CREATE DATABASE demo"
    pq "$port" -d demo -f tests/citus_double/citus_double.sql >/dev/null
    pq "$port" -d demo -c 'CREATE EXTENSION "citus-sidecar"'
fi

narrate() { printf '%s\n' "$@" | sed 's/^/-- /'; }
run() { printf 'demo=# %s\n' "$1"; "$PG_BIN/psql" -X -h 127.0.0.1 -p "$port" -U postgres -d demo -c "$1" 2>&1 | sed 's/^/   /' || true; }

echo; narrate "A 24-shard users table, distributed on user_id (bigint)."
run "CREATE TABLE users (user_id bigint PRIMARY KEY, name text)"
run "CREATE TABLE orders (order_id bigint, user_id bigint NOT NULL, PRIMARY KEY (user_id, order_id))"
run "SET citus.shard_count = 24; SELECT create_distributed_table('users', 'user_id')"
echo; narrate "Someone raised citus.shard_count to 48 for 'more parallelism' and distributes orders." \
    "Plain Citus accepts this silently: orders lands in a new colocation group and users JOIN orders" \
    "stops being colocated. The sidecar warns at the SET, and blocks the call before Citus acts:"
run "SET citus.shard_count = 48; SELECT create_distributed_table('orders', 'user_id')"
echo; narrate "The statement from the HINT:"
run "SELECT create_distributed_table('orders', 'user_id', colocate_with => 'users')"
run "SELECT logicalrelid, colocationid FROM pg_dist_partition ORDER BY 1"
echo; narrate "A hand edit of Citus's metadata is blocked too; Citus's own metadata writes are not:"
run "UPDATE pg_dist_placement SET groupid = 99"
echo; narrate "CI can dry-run a migration script before it ever reaches the cluster:"
run "SELECT statement, rule_id, severity, message FROM citus_sidecar.check_ddl(\$\$
  SET citus.shard_count = 64;
  CREATE TABLE events (event_id bigint, user_id bigint NOT NULL, PRIMARY KEY (user_id, event_id));
  SELECT create_distributed_table('events', 'user_id');
\$\$)"
echo; narrate "Every decision is on record, the blocked ones too:"
run "SELECT subject, rule_ids, verdict FROM citus_sidecar.guard_decisions ORDER BY decided_at"
echo; narrate "The guard's rules and what they do in the current mode:"
run "SELECT * FROM citus_sidecar.rules()"
echo
echo "== demo done; stopping the servers it started"
