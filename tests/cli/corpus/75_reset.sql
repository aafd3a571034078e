-- RESET goes back to the server's value for the session (on the test double, which has no
-- Citus settings, to the value the script started with).
SET citus.shard_count = 12;
RESET citus.shard_count;
CREATE TABLE r1 (id bigint PRIMARY KEY);
SELECT create_distributed_table('r1', 'id');
SET citus.shard_count TO DEFAULT;
RESET ALL;
