\set ON_ERROR_STOP on
\connect app
BEGIN;
CREATE TABLE imports (import_id bigint PRIMARY KEY, payload text);
COPY imports (import_id, payload) FROM stdin;
1	SELECT create_distributed_table('imports', 'payload');
2	not SQL at all ; ( ' $$
\.
-- after the data
SELECT create_distributed_table('imports', 'payload');
  \echo done
COPY imports FROM stdin WITH (FORMAT csv);
3,"a, b"
\.
SELECT create_distributed_table('imports', 'import_id', shard_count => 24);
COMMIT;
