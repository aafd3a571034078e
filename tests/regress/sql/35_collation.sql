-- Colocation and collation. Citus 13.2 keys its default colocation group on the distribution
-- column's type and the type's default collation; Citus 14.0 on the column's own collation, and
-- refuses colocate_with a table whose distribution column has another collation. The rules
-- follow the Citus version they meet (the test double plays 13.2 on PostgreSQL 15 and 14.0 on
-- 16 and later: two expected outputs).
SET citus_sidecar.mode = off;
ALTER SEQUENCE pg_dist_colocationid_seq RESTART 1;
ALTER SEQUENCE pg_dist_shardid_seq RESTART 102008;
RESET citus_sidecar.mode;
SELECT current_setting('citus_double.major') AS citus;
CREATE TABLE t_def (k text NOT NULL PRIMARY KEY);
CREATE TABLE t_c (k text COLLATE "C" NOT NULL PRIMARY KEY);
CREATE TABLE t_c2 (k text COLLATE "C" NOT NULL PRIMARY KEY);
SELECT create_distributed_table('t_def', 'k', shard_count => 4);
-- 13: the "C" column joins t_def's group; 14: it starts its own (Citus's own rule, no finding)
SELECT create_distributed_table('t_c', 'k', shard_count => 4);
SELECT logicalrelid, colocationid FROM pg_dist_partition ORDER BY 1;

-- with citus.shard_count at 8: a text column of the default collation would leave t_def's group
-- (blocked in both); a "C" column is split from t_c's group in 14 but from t_def's in 13
SET citus.shard_count = 8;
\set VERBOSITY terse
SELECT create_distributed_table('t_c2', 'k');
\set VERBOSITY default
RESET citus.shard_count;
-- colocate_with across collations: 13 allows it, 14 refuses it itself
\set VERBOSITY terse
SELECT create_distributed_table('t_c2', 'k', colocate_with => 't_def');
\set VERBOSITY default

-- check_ddl follows the same version: a script's own COLLATE column
SELECT statement, rule_id, severity FROM citus_sidecar.check_ddl($$
    SET citus.shard_count = 8;
    CREATE TABLE t_c3 (k text COLLATE "C" NOT NULL PRIMARY KEY);
    SELECT create_distributed_table('t_c3', 'k');
$$) ORDER BY 1, 2;

-- Citus 14's upgrade step splits a group whose tables' collations differ, through
-- update_distributed_table_colocation: Citus's own work, never blocked. (The mixed group is made
-- by hand here: Citus 14 does not make one.)
BEGIN;
SELECT citus_sidecar.allow_once('metadata-hand-edit', 'test: a group left by Citus 13');
UPDATE pg_dist_partition SET colocationid = (SELECT colocationid FROM pg_dist_partition WHERE logicalrelid = 't_def'::regclass)
 WHERE logicalrelid = 't_c'::regclass;
DELETE FROM pg_dist_colocation WHERE colocationid NOT IN (SELECT colocationid FROM pg_dist_partition);
COMMIT;
SELECT fix_pre_citus14_colocation_group_collation_mismatches();
SELECT p.logicalrelid, p.colocationid = d.colocationid AS with_t_def
  FROM pg_dist_partition p, pg_dist_partition d WHERE d.logicalrelid = 't_def'::regclass ORDER BY 1;
SELECT subject, verdict FROM citus_sidecar.guard_decisions
 WHERE subject = 'update_distributed_table_colocation' ORDER BY decided_at DESC LIMIT 1;

SELECT count(undistribute_table(logicalrelid)) AS undistributed FROM pg_dist_partition;
DROP TABLE t_def, t_c, t_c2;
