#!/usr/bin/env bash
# The upgrade path from 0.1.0, on PostgreSQL 15 (0.1.0 was built for it only), with the current
# library installed (scripts/install.sh) the way an operator upgrades:
#   1. 0.1.0's install script is generated from this repository's own history (commit
#      HISTORY_COMMIT), its functions pointing at $libdir/citus_sidecar as 0.1.0 installed them;
#   2. a database gets 0.1.0, data in its tables and its decision log, and the extension marked
#      as a Citus distributed object (0.1.0 let Citus propagate it);
#   3. with the new library, calling a 0.1.0 function says to run ALTER EXTENSION UPDATE, while
#      the guard keeps working;
#   4. ALTER EXTENSION "citus-sidecar" UPDATE;
#   5. the upgraded extension equals a fresh install, object by object (definitions, privileges,
#      comments, configuration tables);
#   6. the data is all there, and the extension is no distributed object any more.
# Prints "upgrade: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
source tests/lib/pg.sh
trap pg_cleanup EXIT

HISTORY_COMMIT=6d74ffd919eb7cc451e6a0963a31e98f810532cc   # "Rotate the decision log ...", 0.1.0 as it landed
passed=0; failed=0
ok() { echo "  ok     $1"; passed=$((passed + 1)); }
bad() { echo "  FAILED $1"; failed=$((failed + 1)); }
finish() { echo "upgrade: $passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit; }

if [ "$PG_MAJOR" != 15 ]; then
    echo "upgrade: 0.1.0 exists for PostgreSQL 15 only; this is $PG_MAJOR"
    finish
fi
version="$(sed -nE 's/^version = "(.*)"/\1/p' Cargo.toml | head -1)"
extdir="$("$PG_CONFIG" --sharedir)/extension"
if [ ! -f "$extdir/citus-sidecar--0.1.0--$version.sql" ]; then
    bad "no upgrade script citus-sidecar--0.1.0--$version.sql installed (scripts/install.sh copies sql/citus-sidecar--*--*.sql)"
    finish
fi

# 1. 0.1.0's SQL, built from history (cached under target/ between local runs).
cache="$PWD/target/history-0.1.0"
old_sql="$cache/citus-sidecar--0.1.0.sql"
if [ ! -s "$old_sql" ]; then
    rm -rf "$cache/src" && mkdir -p "$cache"
    git archive --format=tar "$HISTORY_COMMIT" | (mkdir -p "$cache/src" && tar -x -C "$cache/src") || { bad "git archive $HISTORY_COMMIT"; finish; }
    (cd "$cache/src" && CARGO_TARGET_DIR="$cache/target" cargo pgrx schema pg15 --pg-config "$PG_CONFIG" -o "$old_sql.tmp" >"$cache/schema.log" 2>&1) \
        || { cat "$cache/schema.log" >&2; bad "building 0.1.0's SQL from $HISTORY_COMMIT"; finish; }
    mv "$old_sql.tmp" "$old_sql"
fi
sed "s|MODULE_PATHNAME|\$libdir/citus_sidecar|g" "$old_sql" >"$extdir/citus-sidecar--0.1.0.sql"
ok "0.1.0's install script built from commit ${HISTORY_COMMIT:0:7}"

tmp="$(pg_tempdir)"; port="$(free_port)"
pg_start "$tmp/data" "$port" "citus-sidecar" || { bad "server start"; finish; }
for db in upgraded fresh; do
    pq "$port" -d postgres -c "CREATE DATABASE $db" >/dev/null
    pq "$port" -d "$db" -f tests/citus_double/citus_double.sql >/dev/null
done

# 2. 0.1.0 with data, as 0.1.0's library left it (its functions are not run with the new one).
pq "$port" -d upgraded >/dev/null <<'SQL' || { bad "installing 0.1.0"; finish; }
SET check_function_bodies = off;
CREATE EXTENSION "citus-sidecar" VERSION '0.1.0';
RESET check_function_bodies;
INSERT INTO citus_sidecar.metadata_snapshot (node, table_name, checksum, layout, recorded_at)
VALUES ('coordinator', 'users', 'sum-1', '', now() - interval '1 hour'),
       ('coordinator', '(snapshot)', '', NULL, now() - interval '1 hour');
INSERT INTO citus_sidecar.metadata_changes (detected_at, node, table_name, classification, reason, old_checksum, new_checksum)
VALUES (now() - interval '2 hours', 'coordinator', 'users', 'unexpected', 'shard ranges changed', 'a', 'b'),
       (now() - interval '3 hours', '127.0.0.1:9701', 'orders', 'unexpected', 'placements differ from the coordinator''s (drift)', 'c', 'd'),
       (now() - interval '4 hours', 'coordinator', 'users', 'expected', 'create_distributed_table (guard decision)', NULL, 'a'),
       (now() - interval '5 hours', '127.0.0.1:9702', '(reachable)', 'expected', 'reachable again', 'unreachable', 'reachable');
UPDATE citus_sidecar.metadata_changes SET acknowledged_at = now(), acknowledged_by = 'postgres', note = 'OPS-1 reviewed'
 WHERE table_name = 'orders';
SET citus_sidecar.mode = off;   -- what Citus did for 0.1.0, done by hand here
INSERT INTO pg_catalog.pg_dist_object (classid, objid, objsubid)
SELECT 'pg_catalog.pg_extension'::regclass, oid, 0 FROM pg_extension WHERE extname = 'citus-sidecar';
RESET citus_sidecar.mode;
SQL
pq "$port" -d fresh -c 'CREATE EXTENSION "citus-sidecar"' >/dev/null || { bad "fresh install"; finish; }
# a decision recorded before the upgrade (the log is a file of the server, shared by both)
pq "$port" -d upgraded -c "DELETE FROM pg_dist_node" >/dev/null 2>&1
records_before="$(pq "$port" -d fresh -Atc "SELECT count(*) FROM citus_sidecar.guard_decisions")"

# 3. the library is newer than the SQL: the guard works, the functions say what to do
blocked="$(pq "$port" -d upgraded -Atc "UPDATE pg_dist_node SET noderack = 'x'" 2>&1)"
outdated="$(pq "$port" -d upgraded -Atc "SELECT * FROM citus_sidecar.rules()" 2>&1)"
if grep -q "metadata-hand-edit" <<<"$blocked" && grep -q 'ALTER EXTENSION "citus-sidecar" UPDATE' <<<"$outdated"; then
    ok "before the update: the guard blocks, the 0.1.0 functions say to run ALTER EXTENSION UPDATE"
else
    bad "before the update: guard said '$blocked'; a 0.1.0 function said '$outdated'"
fi

# 4. the update
if out="$(pq "$port" -d upgraded -c 'ALTER EXTENSION "citus-sidecar" UPDATE' 2>&1)"; then
    ok "ALTER EXTENSION \"citus-sidecar\" UPDATE from 0.1.0 to $version"
else
    bad "ALTER EXTENSION UPDATE: $out"; finish
fi

# 5. the same objects as a fresh install
for db in upgraded fresh; do
    pq "$port" -d "$db" -At -f tests/upgrade/describe.sql >"$tmp/$db.objects" 2>&1
done
if diff -u "$tmp/fresh.objects" "$tmp/upgraded.objects" >"$tmp/objects.diff"; then
    ok "the upgraded extension equals a fresh install ($(wc -l <"$tmp/fresh.objects") objects)"
else
    bad "the upgraded extension differs from a fresh install:"; sed 's/^/    /' "$tmp/objects.diff" | head -60
fi

# 6. the data
data="$(pq "$port" -d upgraded -At <<'SQL' 2>&1
SELECT 'changes=' || count(*) || ' acknowledged=' || count(acknowledged_at) FROM citus_sidecar.metadata_changes;
SELECT 'open=' || count(*) FROM citus_sidecar.unexpected_metadata_changes;
SELECT 'kinds=' || string_agg(kind || ':' || coalesce(table_name, '-'), ',' ORDER BY change_id) FROM citus_sidecar.metadata_changes;
SELECT 'distributed=' || count(*) FROM pg_catalog.pg_dist_object WHERE classid = 'pg_catalog.pg_extension'::regclass
   AND objid = (SELECT oid FROM pg_extension WHERE extname = 'citus-sidecar');
SELECT 'version=' || extversion FROM pg_extension WHERE extname = 'citus-sidecar';
SQL
)"
records_after="$(pq "$port" -d upgraded -Atc "SELECT count(*) FROM citus_sidecar.guard_decisions" 2>&1)"
want="changes=4 acknowledged=1
open=1
kinds=change:users,drift:orders,change:users,reachability:-
distributed=0
version=$version"
if [ "$data" = "$want" ] && [ "$records_after" -ge "$records_before" ] && [ "$records_before" -ge 1 ]; then
    ok "data kept: 4 changes (1 acknowledged, 1 open; drift and reachability in kind), $records_after decision records; no longer a distributed object"
else
    bad "after the update: $data / decision records $records_before -> $records_after"
fi
finish
