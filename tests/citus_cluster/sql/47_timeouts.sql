-- Long reports end with their statement, on every node: statement_timeout (or a cancel) on the
-- coordinator ends the commands the report runs on the nodes, and leaves nothing waiting there.
CREATE TABLE big (id bigint PRIMARY KEY, v text);
SELECT create_distributed_table('big', 'id', shard_count => 4);
INSERT INTO big SELECT g, 'v' || g FROM generate_series(1, 2000) g;
SELECT s.shardid AS sid, n.nodeport AS sport
  FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid) JOIN pg_dist_node n USING (groupid)
 WHERE s.logicalrelid = 'big'::regclass ORDER BY s.shardid LIMIT 1 \gset
-- a prepared transaction on that worker holds one shard locked, so whatever reads it waits
SELECT success FROM master_run_on_worker(ARRAY['127.0.0.1'], ARRAY[:sport], ARRAY[
  format($$BEGIN; SET LOCAL citus.enable_manual_changes_to_shards = on; LOCK TABLE public.big_%s IN ACCESS EXCLUSIVE MODE; PREPARE TRANSACTION 'sidecar_test_lock'$$, :sid)], false);
CREATE FUNCTION waiting_on_worker(port int) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    -- Citus cancels the remote commands as the statement ends: give the cancel a moment
    FOR i IN 1..50 LOOP
        SELECT result::bigint INTO n FROM master_run_on_worker(ARRAY['127.0.0.1'], ARRAY[port],
            ARRAY[$q$SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND backend_type = 'client backend'$q$], false);
        EXIT WHEN n = 0;
        PERFORM pg_sleep(0.1);
    END LOOP;
    RETURN n;
END
$$;
\set VERBOSITY terse
SET statement_timeout = '2s';
SELECT count(*) FROM citus_sidecar.shard_consistency_report(checks => '{data}');
SELECT count(*) FROM citus_sidecar.hot_shards();
RESET statement_timeout;
\set VERBOSITY default
SELECT waiting_on_worker(:sport) AS still_waiting_on_the_worker;
SELECT success FROM master_run_on_worker(ARRAY['127.0.0.1'], ARRAY[:sport], ARRAY[$$ROLLBACK PREPARED 'sidecar_test_lock'$$], false);
SET client_min_messages = warning;
SELECT count(*) AS findings FROM citus_sidecar.shard_consistency_report(checks => '{data}');
RESET client_min_messages;
DROP FUNCTION waiting_on_worker(int);
DROP TABLE big;
