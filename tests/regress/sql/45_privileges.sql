-- An application role that owns its tables distributes them through the guard like anyone,
-- and PostgreSQL's own privilege checks on Citus's functions still apply.
-- Stable ids in the output, as Citus's own tests do (resetting Citus's sequences is a hand edit).
SET citus_sidecar.mode = off;
ALTER SEQUENCE pg_dist_colocationid_seq RESTART 1;
ALTER SEQUENCE pg_dist_shardid_seq RESTART 102008;
RESET citus_sidecar.mode;
CREATE ROLE app_owner;
GRANT CREATE ON SCHEMA public TO app_owner;
CREATE TABLE users (user_id bigint PRIMARY KEY);
SELECT create_distributed_table('users', 'user_id', shard_count => 24);
SET ROLE app_owner;
CREATE TABLE app_orders (order_id bigint, user_id bigint NOT NULL, PRIMARY KEY (user_id, order_id));
SET citus.shard_count = 48;
SELECT create_distributed_table('app_orders', 'user_id');
SELECT create_distributed_table('app_orders', 'user_id', colocate_with => 'users');
RESET citus.shard_count;
RESET ROLE;

-- REVOKE EXECUTE on a Citus function is still enforced, although the call is routed
REVOKE EXECUTE ON FUNCTION undistribute_table(regclass, boolean) FROM PUBLIC;
SET ROLE app_owner;
SELECT undistribute_table('app_orders');
RESET ROLE;
GRANT EXECUTE ON FUNCTION undistribute_table(regclass, boolean) TO PUBLIC;
SET ROLE app_owner;
SELECT undistribute_table('app_orders');
DROP TABLE app_orders;
RESET ROLE;

SELECT role_name, subject, rule_ids, verdict FROM citus_sidecar.guard_decisions
 WHERE role_name = 'app_owner' ORDER BY decided_at;
SELECT undistribute_table('users');
DROP TABLE users;
REVOKE CREATE ON SCHEMA public FROM app_owner;
DROP ROLE app_owner;
