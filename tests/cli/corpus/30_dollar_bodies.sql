-- Function bodies and DO blocks: their calls run later, their semicolons end nothing.
CREATE FUNCTION distribute_orders() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    SET citus.shard_count = 7;  -- inside the body: not this script's setting
    PERFORM create_distributed_table('orders', 'user_id');
END;
$$;
DO $do$
BEGIN
    PERFORM create_distributed_table('visits', 'user_id', shard_count => 3);
END
$do$;
SELECT 'a string; with a semicolon', $q$ and $$ dollar $$ quotes; $q$;
/* a comment; with a semicolon */ SELECT create_distributed_table('visits', 'feeling');
SELECT create_distributed_table('app."Accounts"', 'active'); SELECT create_distributed_table('visits', 'visit_id');
CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;
SELECT create_distributed_table('visits',
                                'user_id',
                                shard_count => 24);
