#!/usr/bin/env bash
# The command-line tool (cli/, binary citus-sidecar) against real servers, for PG_CONFIG's
# PostgreSQL (default 15); the extension must be installed there (scripts/install.sh):
#   tier 2: PostgreSQL + the sidecar + the Citus TEST DOUBLE, as tests/tier2.sh sets it up:
#           the corpus tests/cli/corpus/*.sql checked online against goldens in
#           tests/cli/expected/ (text output and exit code), online and offline (a snapshot of
#           the same database) giving the same JSON, exit codes, line mapping, stdin, GitHub
#           annotations, a file that does not parse, a database without the extension, a server
#           that is not there, connection strings, a service file, the reports
#   tier 3: a real Citus cluster (tests/lib/cluster.sh, coordinator-only) where citus.so is
#           installed: online and offline give the same JSON on the corpus, exit codes, the
#           reports with a stopped worker; otherwise one skipped test
# Prints "cli: N passed, M failed[, K skipped]" and exits non-zero on failure.
#   ACCEPT=1 tests/cli.sh          overwrite tests/cli/expected/ with the results (review the diff!)
#   TIERS=2 tests/cli.sh           only the tier-2 part
set -uo pipefail
cd "$(dirname "$0")/.."
source tests/lib/pg.sh
source tests/lib/cluster.sh
trap pg_cleanup EXIT

export PATH="$HOME/.cargo/bin:$PATH"
cargo build -q -p citus-sidecar-cli || { echo "cli: 0 passed, 1 failed"; exit 1; }
BIN="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/debug/citus-sidecar"
passed=0; failed=0; skipped=0
ok() { echo "  ok     $1"; passed=$((passed + 1)); }
bad() { echo "  FAILED $1"; failed=$((failed + 1)); }
work="$(mktemp -d)"
trap 'pg_cleanup; rm -rf "$work"' EXIT

# expect NAME WANT_EXIT COMMAND...: the command's exit code; its stdout in $work/out, stderr in $work/err
expect() {
    local name="$1" want="$2"; shift 2
    "$@" >"$work/out" 2>"$work/err"
    local rc=$?
    if [ "$rc" = "$want" ]; then ok "$name (exit $rc)"; return 0; fi
    bad "$name: exit $rc, want $want"; sed 's/^/         | /' "$work/out" "$work/err" | head -20
    return 1
}
# has NAME FILE TEXT: FILE contains the line TEXT (fixed string)
has() {
    if grep -qF -- "$3" "$2"; then ok "$1"; else bad "$1: no line with: $3"; sed 's/^/         | /' "$2" | head -20; fi
}
corpus=(tests/cli/corpus/*.sql)

# same_online_offline LABEL: each corpus file gives the same JSON and exit code both ways
same_online_offline() {
    local label="$1" f a b
    for f in "${corpus[@]}"; do
        "$BIN" check --format json "$f" >"$work/on.json" 2>/dev/null; a=$?
        "$BIN" check --format json --catalog "$work/catalog.json" "$f" >"$work/off.json" 2>/dev/null; b=$?
        if [ "$a" = "$b" ] && cmp -s "$work/on.json" "$work/off.json"; then
            ok "$label: online = offline: $(basename "$f") (exit $a)"
        else
            bad "$label: online (exit $a) and offline (exit $b) differ on $(basename "$f")"
            diff "$work/on.json" "$work/off.json" | head -20 | sed 's/^/         | /'
        fi
    done
}

tiers=" ${TIERS:-2 3} "
if [[ "$tiers" == *" 2 "* ]]; then
    tmp="$(pg_tempdir)"
    port="$(free_port)"
    echo "cli: tier 2: $("$PG_CONFIG" --version) + citus-sidecar + Citus TEST DOUBLE on 127.0.0.1:$port"
    pg_start "$tmp/data" "$port" "citus-sidecar" || { echo "cli: 0 passed, 1 failed"; exit 1; }
    pq "$port" -d postgres -c "CREATE DATABASE cli_regress" || exit 1
    pq "$port" -d cli_regress -f tests/citus_double/citus_double.sql >/dev/null || exit 1
    pq "$port" -d cli_regress -c 'CREATE EXTENSION "citus-sidecar"' -f tests/cli/setup.sql >/dev/null || exit 1
    export PGHOST=127.0.0.1 PGPORT="$port" PGUSER=postgres PGDATABASE=cli_regress

    # The corpus, online, as a person reads it: goldens of the text output and the exit code.
    mkdir -p tests/cli/expected
    for f in "${corpus[@]}"; do
        name="$(basename "$f" .sql)"
        { "$BIN" check "$f" 2>&1; echo "exit: $?"; } >"$work/$name.out"
        if [ -n "${ACCEPT:-}" ]; then cp "$work/$name.out" "tests/cli/expected/$name.out"; fi
        if diff -u "tests/cli/expected/$name.out" "$work/$name.out" >"$work/diff" 2>&1; then
            ok "golden $name"
        else
            bad "golden $name"; head -40 "$work/diff" | sed 's/^/         | /'
        fi
    done

    expect "snapshot" 0 "$BIN" snapshot -o "$work/catalog.json"
    same_online_offline "tier 2"

    # Exit codes and --fail-on / --exclude.
    expect "incident blocks" 1 "$BIN" check tests/cli/corpus/10_incident.sql
    expect "fixed migration passes" 0 "$BIN" check tests/cli/corpus/15_incident_fixed.sql
    expect "a warning passes by default" 0 "$BIN" check tests/cli/corpus/40_psql_script.sql
    expect "a warning fails with --fail-on warn" 1 "$BIN" check --fail-on warn tests/cli/corpus/40_psql_script.sql
    expect "--exclude drops a rule" 0 "$BIN" check --fail-on warn --exclude nullable-distribution-column tests/cli/corpus/40_psql_script.sql
    expect "offline: incident blocks" 1 "$BIN" check --catalog "$work/catalog.json" tests/cli/corpus/10_incident.sql
    expect "several files: the worst decides" 1 "$BIN" check tests/cli/corpus/15_incident_fixed.sql tests/cli/corpus/10_incident.sql
    expect "a directory: its .sql files" 2 "$BIN" check tests/cli/corpus
    has "a directory: each file checked" "$work/err" "10 file(s) checked"

    # Line mapping: after comments and blank lines, in $$ bodies' wake, two statements on a line.
    expect "stdin" 1 sh -c "'$BIN' check - --stdin-name migrations/0042.sql < tests/cli/corpus/10_incident.sql"
    has "stdin: the statement's line, under the given name" "$work/out" "migrations/0042.sql:11:1: block[shard-count-colocation]: create_distributed_table would put orders in a new colocation group"
    has "stdin: the SET's line" "$work/out" "migrations/0042.sql:2:1: warn[shard-count-colocation]: citus.shard_count = 48 matches no existing colocation group"
    expect "dollar bodies" 1 "$BIN" check tests/cli/corpus/30_dollar_bodies.sql
    has "after \$\$ bodies: second statement on line 15" "$work/out" "tests/cli/corpus/30_dollar_bodies.sql:15:62: block[shard-count-colocation]"
    has "after a block comment on the same line" "$work/out" "tests/cli/corpus/30_dollar_bodies.sql:14:35: block[enum-distribution-column]"
    has "a call over three lines" "$work/out" "tests/cli/corpus/30_dollar_bodies.sql:17:1: warn[nullable-distribution-column]"
    expect "offline dollar bodies" 1 "$BIN" check --catalog "$work/catalog.json" tests/cli/corpus/30_dollar_bodies.sql
    has "offline: the same line" "$work/out" "tests/cli/corpus/30_dollar_bodies.sql:15:62: block[shard-count-colocation]"

    # Formats.
    expect "github annotations" 1 "$BIN" check --format github tests/cli/corpus/10_incident.sql
    has "github: an error annotation at the statement" "$work/out" "::error file=tests/cli/corpus/10_incident.sql,line=11,col=1,title=citus-sidecar shard-count-colocation::create_distributed_table would put orders"
    has "github: a warning annotation" "$work/out" "::warning file=tests/cli/corpus/10_incident.sql,line=2,col=1,title=citus-sidecar shard-count-colocation::"
    expect "json" 1 "$BIN" check --format json tests/cli/corpus/10_incident.sql
    if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["summary"]["block"]==1 and d["findings"][1]["line"]==11, d' "$work/out"; then
        ok "json: a document with findings and a summary"; else bad "json document"; fi

    # A file that does not parse: file:line:col, exit 2, online and offline alike.
    for mode in online offline; do
        args=(); [ $mode = offline ] && args=(--catalog "$work/catalog.json")
        expect "$mode: does not parse" 2 "$BIN" check "${args[@]}" tests/cli/corpus/90_does_not_parse.sql
        has "$mode: does not parse: where" "$work/out" 'tests/cli/corpus/90_does_not_parse.sql:5:1: error: the script does not parse: syntax error at or near "SELEC"'
    done
    expect "an unreadable file" 2 "$BIN" check tests/cli/corpus/no_such_file.sql
    has "an unreadable file: named" "$work/out" "tests/cli/corpus/no_such_file.sql: error: cannot read it"
    expect "no files" 2 "$BIN" check

    # Servers and databases it cannot use: a clear message, exit 2.
    expect "no extension in the database" 2 "$BIN" check --db "host=127.0.0.1 port=$port user=postgres dbname=postgres" tests/cli/corpus/10_incident.sql
    has "no extension: says so" "$work/err" 'the citus-sidecar extension is not installed in database "postgres"'
    expect "no extension: report" 2 "$BIN" report --db "postgresql://postgres@127.0.0.1:$port/postgres"
    dead="$(free_port)"
    expect "nothing listening" 2 "$BIN" check --db "host=127.0.0.1 port=$dead" tests/cli/corpus/10_incident.sql
    has "nothing listening: says so" "$work/err" "cannot connect to 127.0.0.1:$dead/cli_regress"
    expect "a bad connection string" 2 "$BIN" check --db "hots=x" tests/cli/corpus/10_incident.sql
    has "a bad connection string: says so" "$work/err" 'invalid connection option "hots"'

    # Where the connection comes from: a URI, a service file, PG* variables (used above).
    expect "URI" 1 env -u PGHOST -u PGPORT -u PGDATABASE "$BIN" check --db "postgresql://postgres@127.0.0.1:$port/cli_regress" tests/cli/corpus/10_incident.sql
    printf '[cli]\nhost=127.0.0.1\nport=%s\ndbname=cli_regress\nuser=postgres\n' "$port" >"$work/pg_service.conf"
    expect "PGSERVICE and PGSERVICEFILE" 1 env -u PGHOST -u PGPORT -u PGDATABASE -u PGUSER PGSERVICEFILE="$work/pg_service.conf" PGSERVICE=cli "$BIN" check tests/cli/corpus/10_incident.sql
    expect "service= in --db, an explicit database over the service's" 2 env -u PGHOST -u PGPORT PGSERVICEFILE="$work/pg_service.conf" "$BIN" check --db "service=cli dbname=postgres" tests/cli/corpus/10_incident.sql
    has "service=: the explicit database" "$work/err" 'not installed in database "postgres"'
    expect "an unknown service" 2 env PGSERVICEFILE="$work/pg_service.conf" PGSYSCONFDIR="$work" "$BIN" check --db "service=nope" tests/cli/corpus/10_incident.sql
    has "an unknown service: says so" "$work/err" 'definition of service "nope" not found'

    # Snapshots: format and version checked before use.
    echo '{"format": "something-else", "version": 1}' >"$work/other.json"
    expect "not a snapshot" 2 "$BIN" check --catalog "$work/other.json" tests/cli/corpus/10_incident.sql
    has "not a snapshot: says so" "$work/err" "not a citus-sidecar catalog snapshot"
    sed 's/"version": 1,/"version": 99,/' "$work/catalog.json" >"$work/newer.json"
    expect "a newer snapshot" 2 "$BIN" check --catalog "$work/newer.json" tests/cli/corpus/10_incident.sql
    has "a newer snapshot: says so" "$work/err" "snapshot format version 99 is newer than this tool reads"
    expect "--help" 0 "$BIN" check --help
    has "--help has examples" "$work/out" "citus-sidecar check --catalog catalog.json migrations/*.sql"

    # Nothing ran: the checks left no table behind.
    if [ "$(pq "$port" -d cli_regress -At -c "SELECT count(*) FROM pg_class WHERE relname IN ('orders', 'plans', 'imports')")" = 0 ]; then
        ok "check ran nothing"; else bad "check created tables"; fi

    # The reports: exit 0 when healthy, 1 after a hand edit breaks the shard ranges.
    expect "report: healthy" 0 "$BIN" report
    has "report: hot shards listed" "$work/out" "info[shard-skew] colocation group"
    expect "report: json" 0 "$BIN" report --format json --checks catalog,stale-prepared-xacts
    if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["summary"]["error"]==0' "$work/out"; then
        ok "report: json document"; else bad "report: json document"; fi
    expect "report: an unknown check" 2 "$BIN" report --checks no-such-check
    has "report: an unknown check: the server's message" "$work/err" 'unknown check "no-such-check"'
    pq "$port" -d cli_regress -c "SET citus_sidecar.mode = off" \
        -c "UPDATE pg_dist_shard SET shardmaxvalue = (shardmaxvalue::int - 10)::text WHERE shardid = (SELECT min(shardid) FROM pg_dist_shard)" >/dev/null
    expect "report: a broken range fails it" 1 "$BIN" report --checks catalog
    has "report: the check id" "$work/out" "error[hash-range-gap]"
    expect "report: --fail-on error still fails on errors" 1 "$BIN" report --checks catalog --fail-on error
    unset PGHOST PGPORT PGUSER PGDATABASE
fi

if [[ "$tiers" == *" 3 "* ]]; then
    if ! have_citus; then
        echo "cli: tier 3: SKIPPED: Citus not installed ($CITUS_SO not found)"
        skipped=$((skipped + 1))
    else
        pg_cleanup
        if cluster_start cli_cluster coordinator-only; then
            echo "cli: tier 3: real Citus cluster, coordinator 127.0.0.1:$COORD_PORT, workers :$WORKER1_PORT :$WORKER2_PORT"
            pq "$COORD_PORT" -d cli_cluster -f tests/cli/setup.sql >/dev/null || bad "tier 3: setup.sql"
            export PGHOST=127.0.0.1 PGPORT="$COORD_PORT" PGUSER=postgres PGDATABASE=cli_cluster
            expect "tier 3: snapshot" 0 "$BIN" snapshot -o "$work/catalog.json"
            has "tier 3: snapshot names Citus" "$work/err" "Citus $(grep -h default_version "$("$PG_CONFIG" --sharedir)/extension/citus.control" | cut -d"'" -f2)"
            same_online_offline "tier 3"
            expect "tier 3: incident blocks" 1 "$BIN" check tests/cli/corpus/10_incident.sql
            has "tier 3: incident at its line" "$work/out" "tests/cli/corpus/10_incident.sql:11:1: block[shard-count-colocation]: create_distributed_table would put orders in a new colocation group"
            expect "tier 3: RESET reads Citus's setting" 1 "$BIN" check tests/cli/corpus/75_reset.sql
            expect "tier 3: fixed migration passes" 0 "$BIN" check tests/cli/corpus/15_incident_fixed.sql
            expect "tier 3: does not parse" 2 "$BIN" check tests/cli/corpus/90_does_not_parse.sql
            expect "tier 3: no extension on a worker" 2 "$BIN" check --db "host=127.0.0.1 port=$WORKER1_PORT dbname=cli_cluster" tests/cli/corpus/10_incident.sql
            has "tier 3: no extension on a worker: says so" "$work/err" 'the citus-sidecar extension is not installed in database "cli_cluster"'
            expect "tier 3: report: healthy" 0 "$BIN" report
            pg_stop "$CLUSTER_DIR/n$WORKER2_PORT"
            expect "tier 3: report: a stopped worker fails it" 1 "$BIN" report
            has "tier 3: report: the unreachable node" "$work/out" "error[node-unreachable]"
            unset PGHOST PGPORT PGUSER PGDATABASE
        else
            bad "tier 3: cluster_start"
        fi
    fi
fi

if [ $skipped -gt 0 ]; then
    echo "cli: $passed passed, $failed failed, $skipped skipped"
else
    echo "cli: $passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
