-- Hand edits of Citus metadata, and statements that only read or document it.
UPDATE pg_dist_placement SET groupid = 2 WHERE shardid = 102008;
DELETE FROM pg_catalog.pg_dist_shard WHERE logicalrelid = 'users'::regclass;
INSERT INTO pg_dist_node (nodename, nodeport) VALUES ('10.0.0.9', 5432);
TRUNCATE pg_dist_transaction;
ALTER TABLE pg_dist_partition ADD COLUMN note text;
DROP TABLE IF EXISTS pg_dist_cleanup, public.pg_dist_cleanup;
ALTER SEQUENCE pg_dist_shardid_seq RESTART 100;
GRANT ALL ON ALL TABLES IN SCHEMA pg_catalog TO PUBLIC;
COPY pg_dist_node FROM '/tmp/nodes.csv';
WITH moved AS (UPDATE pg_dist_placement SET groupid = 1 RETURNING *) SELECT count(*) FROM moved;
COMMENT ON TABLE pg_dist_node IS 'documenting is not editing';
SELECT * FROM pg_dist_node;
COPY pg_dist_node TO stdout;
LOCK TABLE pg_dist_node;
UPDATE "PG_DIST_NODE" SET x = 1;
