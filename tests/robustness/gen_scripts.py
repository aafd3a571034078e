#!/usr/bin/env python3
"""Migration scripts generated to break check_ddl: long chains, deep nesting of every kind of
expression, statements of every kind PostgreSQL's parser accepts, distribution calls with odd
arguments, metadata edits, psql meta-commands, COPY data, quoting, and random mixes of all of
them. tests/robustness.sh feeds each to check_ddl and expects a result or a clear ERROR, and a
live server. Deterministic for a given seed.

    gen_scripts.py SEED COUNT OUTDIR
"""
import os
import random
import sys

# One or more examples of every statement kind of PostgreSQL's grammar (gram.y's stmt list),
# written so that the parser accepts them (they need not run).
STATEMENTS = [
    "ALTER EVENT TRIGGER et DISABLE", "ALTER COLLATION c REFRESH VERSION", "ALTER DATABASE d SET x = 1",
    "ALTER DATABASE d SET citus.shard_count = 48", "ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO r",
    "ALTER DOMAIN d SET NOT NULL", "ALTER ENUM e ADD VALUE 'x'", "ALTER EXTENSION e UPDATE",
    "ALTER EXTENSION e ADD TABLE t", "ALTER FOREIGN DATA WRAPPER w OPTIONS (a 'b')",
    "ALTER FOREIGN TABLE f ADD COLUMN c int", "ALTER FUNCTION f() STABLE", "ALTER GROUP g ADD USER u",
    "ALTER INDEX i RENAME TO j", "ALTER INDEX pg_dist_partition_logical_relid_index SET (fillfactor = 50)",
    "ALTER LARGE OBJECT 1 OWNER TO r", "ALTER MATERIALIZED VIEW m RENAME TO n", "ALTER OPERATOR + (int, int) OWNER TO r",
    "ALTER OPERATOR CLASS c USING btree RENAME TO d", "ALTER POLICY p ON t USING (true)", "ALTER PROCEDURE p() SECURITY DEFINER",
    "ALTER PUBLICATION p ADD TABLE t", "ALTER ROLE r SET citus.shard_count TO 48", "ALTER ROLE r RESET ALL",
    "ALTER ROUTINE r() IMMUTABLE", "ALTER RULE r ON t RENAME TO s", "ALTER SCHEMA s RENAME TO t",
    "ALTER SEQUENCE s RESTART", "ALTER SEQUENCE pg_catalog.pg_dist_shardid_seq RESTART 1", "ALTER SERVER s VERSION '2'",
    "ALTER STATISTICS s SET STATISTICS 10", "ALTER SUBSCRIPTION s DISABLE", "ALTER SYSTEM SET citus.shard_count = 16",
    "ALTER SYSTEM RESET ALL", "ALTER TABLE t ADD COLUMN c int", "ALTER TABLE IF EXISTS ONLY t DROP COLUMN IF EXISTS c CASCADE",
    "ALTER TABLE pg_dist_node SET SCHEMA public", "ALTER TABLE pg_catalog.pg_dist_shard OWNER TO r",
    "ALTER TABLESPACE ts RENAME TO tt", "ALTER TEXT SEARCH CONFIGURATION c RENAME TO d", "ALTER TRIGGER tr ON t RENAME TO ts",
    "ALTER TYPE ty ADD ATTRIBUTE a int", "ALTER USER MAPPING FOR u SERVER s OPTIONS (a 'b')", "ALTER VIEW v RENAME TO w",
    "ANALYZE t", "ANALYZE", "BEGIN", "START TRANSACTION ISOLATION LEVEL SERIALIZABLE", "COMMIT", "ROLLBACK",
    "SAVEPOINT s", "RELEASE SAVEPOINT s", "ROLLBACK TO SAVEPOINT s", "PREPARE TRANSACTION 'x'", "COMMIT PREPARED 'x'",
    "CALL p()", "CHECKPOINT", "CLOSE c", "CLUSTER t USING i", "COMMENT ON TABLE pg_dist_node IS 'x'",
    "COPY t FROM '/tmp/x'", "COPY t TO STDOUT", "COPY (SELECT 1) TO STDOUT", "COPY pg_dist_placement FROM PROGRAM 'true'",
    "CREATE ACCESS METHOD am TYPE TABLE HANDLER h", "CREATE AGGREGATE a (int) (SFUNC = f, STYPE = int)",
    "CREATE CAST (int AS text) WITH INOUT", "CREATE COLLATION c (locale = 'C')", "CREATE CONVERSION c FOR 'UTF8' TO 'LATIN1' FROM f",
    "CREATE DATABASE d", "CREATE DOMAIN d AS int CHECK (VALUE > 0)", "CREATE EVENT TRIGGER et ON ddl_command_end EXECUTE FUNCTION f()",
    "CREATE EXTENSION IF NOT EXISTS e", "CREATE FOREIGN DATA WRAPPER w", "CREATE FOREIGN TABLE f (a int) SERVER s",
    "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT create_distributed_table('t', 'a') $$",
    "CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END",
    "CREATE PROCEDURE p() LANGUAGE plpgsql AS $body$ BEGIN PERFORM 1; END $body$", "CREATE GROUP g",
    "CREATE INDEX ON t (a)", "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON t USING btree (lower(b) DESC NULLS LAST) INCLUDE (c) WHERE a > 0",
    "CREATE INDEX ON pg_dist_node (noderack)", "CREATE LANGUAGE plperl", "CREATE MATERIALIZED VIEW m AS SELECT 1",
    "CREATE OPERATOR === (LEFTARG = int, RIGHTARG = int, FUNCTION = int4eq)", "CREATE OPERATOR CLASS c FOR TYPE int USING btree AS OPERATOR 1 <",
    "CREATE POLICY p ON t USING (a = current_user)", "CREATE PUBLICATION p FOR ALL TABLES", "CREATE ROLE r LOGIN",
    "CREATE RULE r AS ON INSERT TO t DO INSTEAD NOTHING", "CREATE RULE r AS ON UPDATE TO pg_dist_node DO ALSO NOTIFY x",
    "CREATE SCHEMA s", "CREATE SCHEMA s CREATE TABLE t (a int) CREATE VIEW v AS SELECT 1", "CREATE SEQUENCE s",
    "CREATE SERVER s FOREIGN DATA WRAPPER w", "CREATE STATISTICS s ON a, b FROM t", "CREATE SUBSCRIPTION s CONNECTION '' PUBLICATION p",
    "CREATE TABLE t (a int)", "CREATE TABLE t (a bigserial PRIMARY KEY, b text COLLATE \"C\" NOT NULL, c int GENERATED ALWAYS AS (a) STORED)",
    "CREATE TABLE t (LIKE u INCLUDING ALL)", "CREATE TABLE t PARTITION OF u FOR VALUES FROM (1) TO (2)",
    "CREATE TABLE t () INHERITS (pg_dist_node)", "CREATE TEMP TABLE t AS SELECT create_distributed_table('u', 'a')",
    "CREATE TABLE t (a int, b int, PRIMARY KEY (a, b), UNIQUE (b), CHECK (a > 0), FOREIGN KEY (b) REFERENCES u (a))",
    "CREATE TABLESPACE ts LOCATION '/tmp'", "CREATE TEXT SEARCH DICTIONARY d (TEMPLATE = simple)", "CREATE TRANSFORM FOR int LANGUAGE sql (FROM SQL WITH FUNCTION f(internal))",
    "CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()", "CREATE TRIGGER tr BEFORE DELETE ON pg_dist_shard FOR EACH STATEMENT EXECUTE FUNCTION f()",
    "CREATE TYPE ty AS (a int)", "CREATE TYPE mood AS ENUM ('a', 'b')", "CREATE TYPE r AS RANGE (subtype = int)",
    "CREATE USER u", "CREATE USER MAPPING FOR u SERVER s", "CREATE VIEW v AS SELECT create_distributed_table('t', 'a')",
    "CREATE OR REPLACE RECURSIVE VIEW v (n) AS VALUES (1) UNION ALL SELECT n + 1 FROM v", "DEALLOCATE ALL",
    "DECLARE c CURSOR WITH HOLD FOR SELECT create_distributed_table('t', 'a')", "DELETE FROM t WHERE a = 1 RETURNING *",
    "DELETE FROM pg_catalog.pg_dist_transaction", "WITH d AS (DELETE FROM pg_dist_cleanup RETURNING 1) SELECT * FROM d",
    "DISCARD ALL", "DO $$ BEGIN PERFORM create_distributed_table('t', 'a'); END $$", "DO LANGUAGE plpgsql 'BEGIN NULL; END'",
    "DROP TABLE t", "DROP TABLE IF EXISTS a, b.c, pg_dist_local_group CASCADE", "DROP INDEX CONCURRENTLY pg_dist_shard_shardid_index",
    "DROP TRIGGER tr ON pg_dist_node", "DROP RULE r ON pg_dist_node", "DROP POLICY p ON pg_dist_node", "DROP SEQUENCE pg_dist_groupid_seq",
    "DROP VIEW pg_dist_shard_placement", "DROP FUNCTION f(int)", "DROP OWNED BY r", "DROP ROLE r", "DROP SCHEMA s CASCADE",
    "DROP EXTENSION \"citus-sidecar\"", "DROP DATABASE d WITH (FORCE)", "EXECUTE p(1, 'a')", "EXPLAIN SELECT 1",
    "EXPLAIN (ANALYZE, BUFFERS) SELECT create_distributed_table('t', 'a')", "FETCH 10 FROM c", "MOVE NEXT IN c",
    "GRANT SELECT ON t TO r", "GRANT ALL ON ALL TABLES IN SCHEMA pg_catalog TO r", "GRANT UPDATE (noderack) ON pg_dist_node TO r",
    "GRANT r TO s", "REVOKE ALL ON pg_dist_partition FROM PUBLIC", "IMPORT FOREIGN SCHEMA s FROM SERVER v INTO t",
    "INSERT INTO t VALUES (1), (2) ON CONFLICT (a) DO UPDATE SET b = excluded.b", "INSERT INTO pg_dist_node (nodename) SELECT 'x'",
    "INSERT INTO t SELECT create_distributed_table('u', 'a')", "LISTEN x", "NOTIFY x, 'y'", "UNLISTEN *", "LOAD 'auto_explain'",
    "LOCK TABLE pg_dist_node IN ACCESS EXCLUSIVE MODE", "MERGE INTO t USING u ON t.a = u.a WHEN MATCHED THEN UPDATE SET b = u.b WHEN NOT MATCHED THEN INSERT VALUES (u.a)",
    "MERGE INTO pg_dist_node n USING (SELECT 1 AS id) s ON n.nodeid = s.id WHEN MATCHED THEN DELETE",
    "PREPARE p (int) AS SELECT create_distributed_table($1::regclass, 'a')", "REASSIGN OWNED BY r TO s",
    "REFRESH MATERIALIZED VIEW CONCURRENTLY m", "REINDEX TABLE pg_dist_node", "RESET citus.shard_count", "RESET ALL",
    "SECURITY LABEL ON TABLE t IS 'x'", "SELECT 1", "SELECT * FROM t FOR UPDATE SKIP LOCKED", "SELECT DISTINCT ON (a) a FROM t ORDER BY a",
    "SELECT a, count(*) FROM t GROUP BY ROLLUP (a) HAVING count(*) > 1 WINDOW w AS (ORDER BY a) ORDER BY 1 LIMIT 1 OFFSET 1",
    "SELECT create_distributed_table('t', 'a') GROUP BY 1", "SELECT * FROM ROWS FROM (create_distributed_table('t', 'a'), generate_series(1, 2))",
    "SELECT (SELECT create_distributed_table('t', 'a'))", "SELECT 1 WHERE EXISTS (SELECT alter_distributed_table('t', shard_count => 8))",
    "SELECT json_object('a': 1)", "SELECT xmlelement(name a, 'b')", "SELECT 1 UNION SELECT 2 INTERSECT SELECT 3 EXCEPT SELECT 4",
    "SELECT INTO x FROM t", "SET citus.shard_count = 48", "SET LOCAL citus.shard_count TO DEFAULT", "SET SESSION AUTHORIZATION r",
    "SET ROLE r", "SET TIME ZONE 'UTC'", "SET citus.shard_replication_factor = 2", "SET citus_sidecar.mode = off",
    "SHOW citus.shard_count", "SHOW ALL", "TABLE pg_dist_node", "TRUNCATE t", "TRUNCATE ONLY pg_dist_placement, pg_dist_shard RESTART IDENTITY",
    "UPDATE t SET a = a + 1 FROM u WHERE t.a = u.a", "UPDATE pg_dist_partition SET colocationid = 0",
    "UPDATE ONLY pg_catalog.pg_dist_colocation AS c SET shardcount = 3 WHERE c.colocationid = 1 RETURNING *",
    "VACUUM (FULL, ANALYZE) t", "VALUES (1, 2), (3, 4)", "WITH RECURSIVE r AS (SELECT 1 n UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT * FROM r",
    "SELECT create_distributed_table('users', 'user_id')", "SELECT create_distributed_table('orders', 'user_id', colocate_with => 'users')",
    "SELECT create_distributed_table(table_name => 'o', distribution_column => 'a', shard_count => 48)",
    "SELECT create_distributed_table('o', repeat('u', 63) || '_x')", "SELECT create_distributed_table_concurrently('o', 'a', shard_count => 0)",
    "SELECT alter_distributed_table('o', shard_count => 48, colocate_with => 'default', cascade_to_colocated => false)",
    "SELECT alter_distributed_table('o', shard_count := 'many')", "SELECT undistribute_table('o', cascade_via_foreign_keys => true)",
    "SELECT update_distributed_table_colocation('o', colocate_with => 'none')", "SELECT pg_catalog.create_distributed_table('o', 'a')",
    "SELECT public.create_distributed_table('o', 'a')", "SELECT create_distributed_table()", "SELECT create_distributed_table(NULL, NULL, NULL, NULL, NULL)",
    "SELECT create_distributed_table('o', 'a', 'hash', 'default', 8, 'extra')", "SELECT create_distributed_table('o', 'a', nope => 1)",
    "SELECT create_distributed_table('o', 'a', shard_count => 8, shard_count => 9)", "SELECT create_distributed_table('\"Weird\".\"Name\"', 'A')",
    "SELECT create_distributed_table('o', 'a', shard_count => 99999999999)", "SELECT create_distributed_table('o', 'a', shard_count => ' 0x10 ')",
    "SELECT create_distributed_table('o', 'a', shard_count => -1::int)", "SELECT create_distributed_table('o'::regclass::text, 'a')",
    "SELECT create_distributed_table(x, y) FROM (VALUES ('o', 'a')) v(x, y)", "SELECT citus_run_local_command('UPDATE pg_dist_node SET noderack = 1')",
]

ATOMS = ["1", "a", "'x'", "NULL", "$1", "create_distributed_table('t', 'a')", "ARRAY[1]", "t.a", "(SELECT 1)", "now()", "'{}'::jsonb"]


def deep(rng, depth):
    """An expression nested `depth` levels deep, of a random shape."""
    kind = rng.choice(["paren", "func", "case", "array", "sub", "not", "cast", "coalesce", "row", "json", "in"])
    inner = rng.choice(ATOMS)
    for _ in range(depth):
        if kind == "paren":
            inner = f"({inner})"
        elif kind == "func":
            inner = f"abs({inner})"
        elif kind == "case":
            inner = f"CASE WHEN {inner} THEN 1 END"
        elif kind == "array":
            inner = f"ARRAY[{inner}]"
        elif kind == "sub":
            inner = f"(SELECT {inner})"
        elif kind == "not":
            inner = f"NOT {inner}"
        elif kind == "cast":
            inner = f"{inner}::text"
        elif kind == "coalesce":
            inner = f"coalesce({inner}, 1)"
        elif kind == "row":
            inner = f"ROW({inner}, 1)"
        elif kind == "json":
            inner = f"jsonb_build_object('k', {inner})"
        else:
            inner = f"1 IN ({inner})"
    return inner


def chain(rng, n):
    op = rng.choice(["+", "||", " AND ", " OR ", "*", " = "])
    return op.join(rng.choice(ATOMS) for _ in range(n))


def noise(rng):
    return rng.choice([
        "\\set ON_ERROR_STOP on", "\\connect other", "-- a comment with ; and $$", "/* nested /* comment */ ; */",
        "COPY t FROM stdin;\n1\t2\n\\N\t'\n\\.", "SELECT $tag$ ; $$ $tag$", "SELECT E'\\\\'';'", "SELECT U&'\\0041'",
        "SELECT 'ünïcødé ' || '日本'", "SELECT \"quoted \"\"ident\"\"\" FROM t", "\\echo hello", "COPY t (a) FROM STDIN WITH (FORMAT csv);\na\nb\n\\.",
    ])


def script(rng, i):
    parts = []
    for _ in range(rng.randint(1, 12)):
        r = rng.random()
        if r < 0.45:
            parts.append(rng.choice(STATEMENTS) + ";")
        elif r < 0.6:
            parts.append(f"SELECT {deep(rng, rng.choice([10, 100, 1000, 5000, 20000]))};")
        elif r < 0.7:
            parts.append(f"SELECT {chain(rng, rng.choice([100, 10000, 100000]))};")
        elif r < 0.85:
            parts.append(noise(rng))
        elif r < 0.9:
            parts.append("SELECT create_distributed_table('t', 'a', shard_count => " + deep(rng, rng.choice([5, 500, 8000])) + ");")
        else:
            # garbage: half a statement, a stray quote, a NUL-free binary-ish string
            parts.append(rng.choice(["SELECT (", "'unterminated", "$$ open", "SELEC 1;", ";;;", "", "   ", "\t\n", "SELECT 1 /* open"]))
    sep = rng.choice(["\n", " ", "\n\n", "\r\n"])
    return sep.join(parts)


def main():
    seed, count, outdir = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    rng = random.Random(seed)
    os.makedirs(outdir, exist_ok=True)
    # the fixed cases first: every statement kind alone, then the extremes
    fixed = [s + ";" for s in STATEMENTS]
    fixed += ["SELECT 1" + "+1" * 100000, "SELECT " + "(" * 100000, "SELECT " + "abs(" * 5000 + "1" + ")" * 5000,
              "SELECT " + "ARRAY[" * 3000 + "1" + "]" * 3000, "SELECT 1;" * 200000, ";" * 100000, "", "-- only a comment",
              "\\.\n", "COPY t FROM stdin;", "SELECT create_distributed_table('t', 'a');" * 20000]
    n = 0
    for s in fixed:
        with open(os.path.join(outdir, f"{n:05d}.sql"), "w") as f:
            f.write(s)
        n += 1
    for i in range(count):
        with open(os.path.join(outdir, f"{n:05d}.sql"), "w") as f:
            f.write(script(rng, i))
        n += 1
    print(n)


if __name__ == "__main__":
    main()
