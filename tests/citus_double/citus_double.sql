-- =================================================================================================
--  TEST DOUBLE OF CITUS 13.2 AND 14.0 -- for citus-sidecar's tier-2 tests only. NEVER SHIPPED.
--
--  Real Citus is not available from any registry this project's CI can reach, so tier 2 runs on
--  plain PostgreSQL 15 with this script loaded into the test database. It creates the Citus
--  catalogs and functions citus-sidecar reads or intercepts, with the names, columns, types,
--  signatures and defaults of Citus 13.2 (see shared/reference/citus-internals.md):
--
--    catalogs : pg_catalog.pg_dist_partition, pg_dist_shard (with its dropped shardalias column),
--               pg_dist_placement, pg_dist_node, pg_dist_colocation, pg_dist_transaction,
--               pg_dist_local_group, pg_dist_cleanup (always empty), and their sequences
--    functions: create_distributed_table, create_distributed_table_concurrently,
--               alter_distributed_table, undistribute_table, update_distributed_table_colocation,
--               master_run_on_worker, run_command_on_placements, run_command_on_all_nodes,
--               run_command_on_workers, worker_hash, get_shard_id_for_distribution_column,
--               column_to_column_name, citus_stat_tenants, citus_stat_tenants_local
--
--  It fills the catalogs with Citus's hash-range math (inc = floor(2^32/N), last max forced to
--  INT32_MAX) and Citus's colocation choice for colocate_with => 'default' (type, shard count,
--  replication factor and collation; smallest id wins; strict when shard_count is given), in a
--  single-node layout: every shard is a local table <table>_<shardid>, placements on group 0 unless
--  pg_dist_node lists other nodes (which the double cannot reach: run_command_on_* reports them as
--  failed rows, the way Citus reports an unreachable node).
--
--  Flavours: the setting citus_double.major (13 unless set, e.g. ALTER DATABASE ... SET
--  citus_double.major = 14) picks which Citus it plays where the two differ (citus14-pg16-18.md
--  §2.3): Citus 14 keys default colocation on the distribution column's collation (13 on the
--  type's default collation, except create_distributed_table_concurrently, which already used the
--  column's), refuses colocate_with a table whose distribution column has another collation, and
--  has fix_pre_citus14_colocation_group_collation_mismatches(). update_distributed_table_colocation
--  compares types and collations in both, as real 13.2 does.
--
--  Its internal functions live in schema citus. Real Citus writes its catalogs from C; the double
--  writes them from PL/pgSQL in schema citus, which citus-sidecar treats as Citus's own work (as it
--  treats functions of the citus extension), so its metadata-hand-edit rule does not fire on them.
--
--  Known differences from real Citus, on purpose:
--    * worker_hash and get_shard_id_for_distribution_column take anyelement, not "any" (PL/pgSQL
--      cannot declare "any"); they hash with the same function Citus uses (support function 1 of
--      the type's default hash operator class).
--    * Distributed tables are not routed: the shell table is emptied and rows live in the shard
--      tables, as on a Citus coordinator without a placement of its own.
--    * Real Citus writes its catalogs from C, whoever calls it; the double's internal functions in
--      schema citus are SECURITY DEFINER for the same effect (and do not check table ownership).
--    * No GUCs are registered: citus.shard_count and citus.shard_replication_factor are read with
--      current_setting(..., true) and default to 32 and 1 like Citus's.
--  Where the double and real Citus disagree, the real-Citus tier wins and this file is fixed.
-- =================================================================================================

SET client_min_messages = warning;
CREATE SCHEMA citus;
CREATE TYPE citus.distribution_type AS ENUM ('hash', 'range', 'append');
CREATE TYPE citus.shard_transfer_mode AS ENUM ('auto', 'force_logical', 'block_writes');
CREATE TYPE citus.noderole AS ENUM ('primary', 'secondary', 'unavailable');
ALTER TYPE citus.noderole SET SCHEMA pg_catalog;

CREATE SEQUENCE citus.pg_dist_shardid_seq MINVALUE 102008 NO CYCLE;
CREATE SEQUENCE citus.pg_dist_placement_placementid_seq NO CYCLE;
CREATE SEQUENCE citus.pg_dist_groupid_seq MINVALUE 1 MAXVALUE 4294967296;
CREATE SEQUENCE citus.pg_dist_node_nodeid_seq MINVALUE 1 MAXVALUE 4294967296;
CREATE SEQUENCE citus.pg_dist_colocationid_seq MINVALUE 1 MAXVALUE 4294967296;

CREATE TABLE citus.pg_dist_partition (
    logicalrelid regclass NOT NULL,
    partmethod "char" NOT NULL,
    partkey text,
    colocationid integer DEFAULT 0 NOT NULL,
    repmodel "char" DEFAULT 'c' NOT NULL,
    autoconverted boolean DEFAULT false
);
CREATE UNIQUE INDEX pg_dist_partition_logical_relid_index ON citus.pg_dist_partition (logicalrelid);
CREATE INDEX pg_dist_partition_colocationid_index ON citus.pg_dist_partition (colocationid);

CREATE TABLE citus.pg_dist_shard (
    logicalrelid regclass NOT NULL,
    shardid bigint NOT NULL,
    shardstorage "char" NOT NULL,
    shardalias text,
    shardminvalue text,
    shardmaxvalue text
);
ALTER TABLE citus.pg_dist_shard DROP COLUMN shardalias;   -- as Citus does: attnum 4 is dropped
CREATE UNIQUE INDEX pg_dist_shard_shardid_index ON citus.pg_dist_shard (shardid);
CREATE INDEX pg_dist_shard_logical_relid_index ON citus.pg_dist_shard (logicalrelid);

CREATE TABLE citus.pg_dist_placement (
    placementid bigint NOT NULL DEFAULT nextval('citus.pg_dist_placement_placementid_seq'),
    shardid bigint NOT NULL,
    shardstate integer NOT NULL,
    shardlength bigint NOT NULL,
    groupid integer NOT NULL
);
CREATE UNIQUE INDEX pg_dist_placement_placementid_index ON citus.pg_dist_placement (placementid);
CREATE UNIQUE INDEX placement_shardid_groupid_unique_index ON citus.pg_dist_placement (shardid, groupid);
CREATE INDEX pg_dist_placement_groupid_index ON citus.pg_dist_placement (groupid);

CREATE TABLE citus.pg_dist_node (
    nodeid integer NOT NULL DEFAULT nextval('citus.pg_dist_node_nodeid_seq') PRIMARY KEY,
    groupid integer NOT NULL DEFAULT nextval('citus.pg_dist_groupid_seq'),
    nodename text NOT NULL,
    nodeport integer NOT NULL DEFAULT 5432,
    noderack text NOT NULL DEFAULT 'default',
    hasmetadata boolean NOT NULL DEFAULT false,
    isactive boolean NOT NULL DEFAULT true,
    noderole pg_catalog.noderole NOT NULL DEFAULT 'primary',
    nodecluster name NOT NULL DEFAULT 'default',
    metadatasynced boolean DEFAULT false,
    shouldhaveshards boolean NOT NULL DEFAULT true,
    nodeisclone boolean NOT NULL DEFAULT false,
    nodeprimarynodeid integer NOT NULL DEFAULT 0,
    CONSTRAINT pg_dist_node_nodename_nodeport_key UNIQUE (nodename, nodeport)
);

CREATE TABLE citus.pg_dist_colocation (
    colocationid integer NOT NULL PRIMARY KEY,
    shardcount integer NOT NULL,
    replicationfactor integer NOT NULL,
    distributioncolumntype oid NOT NULL,
    distributioncolumncollation oid NOT NULL
);
CREATE INDEX pg_dist_colocation_configuration_index ON citus.pg_dist_colocation
    (distributioncolumntype, shardcount, replicationfactor, distributioncolumncollation);

CREATE TABLE citus.pg_dist_transaction (
    groupid integer NOT NULL,
    gid text NOT NULL,
    outer_xid xid8,
    CONSTRAINT pg_dist_transaction_unique_constraint UNIQUE (groupid, gid)
);
CREATE INDEX pg_dist_transaction_group_index ON citus.pg_dist_transaction (groupid);

CREATE TABLE citus.pg_dist_cleanup (
    record_id bigint NOT NULL,
    operation_id bigint NOT NULL,
    object_type integer NOT NULL,
    object_name text NOT NULL,
    node_group_id integer NOT NULL,
    policy_type integer
);

CREATE TABLE citus.pg_dist_local_group (groupid integer NOT NULL);
INSERT INTO citus.pg_dist_local_group VALUES (0);

-- Objects Citus creates on every node (nothing in the double marks any).
CREATE TABLE citus.pg_dist_object (
    classid oid NOT NULL,
    objid oid NOT NULL,
    objsubid integer NOT NULL,
    type text,
    object_names text[],
    object_args text[],
    distribution_argument_index integer,
    colocationid integer,
    force_delegation boolean,
    CONSTRAINT pg_dist_object_pkey PRIMARY KEY (classid, objid, objsubid)
);

-- Citus lets everyone read its metadata.
GRANT SELECT ON citus.pg_dist_partition, citus.pg_dist_shard, citus.pg_dist_placement, citus.pg_dist_node,
                citus.pg_dist_colocation, citus.pg_dist_local_group, citus.pg_dist_object,
                citus.pg_dist_cleanup TO public;
GRANT USAGE ON SCHEMA citus TO public;

ALTER TABLE citus.pg_dist_partition SET SCHEMA pg_catalog;
ALTER TABLE citus.pg_dist_shard SET SCHEMA pg_catalog;
ALTER TABLE citus.pg_dist_placement SET SCHEMA pg_catalog;
ALTER TABLE citus.pg_dist_node SET SCHEMA pg_catalog;
ALTER TABLE citus.pg_dist_colocation SET SCHEMA pg_catalog;
ALTER TABLE citus.pg_dist_transaction SET SCHEMA pg_catalog;
ALTER TABLE citus.pg_dist_local_group SET SCHEMA pg_catalog;
ALTER TABLE citus.pg_dist_object SET SCHEMA pg_catalog;
ALTER TABLE citus.pg_dist_cleanup SET SCHEMA pg_catalog;
ALTER SEQUENCE citus.pg_dist_shardid_seq SET SCHEMA pg_catalog;
ALTER SEQUENCE citus.pg_dist_placement_placementid_seq SET SCHEMA pg_catalog;
ALTER SEQUENCE citus.pg_dist_groupid_seq SET SCHEMA pg_catalog;
ALTER SEQUENCE citus.pg_dist_node_nodeid_seq SET SCHEMA pg_catalog;
ALTER SEQUENCE citus.pg_dist_colocationid_seq SET SCHEMA pg_catalog;

-- -------------------------------------------------------------------------------------------------
-- Hashing
-- -------------------------------------------------------------------------------------------------

-- The hash function Citus uses for a type: support function 1 of its default hash opclass
-- (lookup_type_cache(TYPECACHE_HASH_PROC_FINFO)), looking through domains, and using the
-- polymorphic opclasses for enums and arrays.
CREATE FUNCTION citus.hash_proc_for_type(typ oid) RETURNS regproc
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE base(t) AS (
        SELECT typ
        UNION ALL
        SELECT ty.typbasetype FROM base JOIN pg_type ty ON ty.oid = base.t WHERE ty.typbasetype <> 0
    ), resolved AS (
        SELECT CASE WHEN ty.typtype = 'e' THEN 'anyenum'::regtype::oid
                    WHEN ty.typsubscript = 'array_subscript_handler'::regproc THEN 'anyarray'::regtype::oid
                    WHEN ty.typtype = 'r' THEN 'anyrange'::regtype::oid
                    ELSE ty.oid END AS t
          FROM base JOIN pg_type ty ON ty.oid = base.t
         WHERE ty.typbasetype = 0
    )
    SELECT p.amproc
      FROM resolved r
      JOIN pg_opclass oc ON oc.opcintype = r.t AND oc.opcdefault
      JOIN pg_am am ON am.oid = oc.opcmethod AND am.amname = 'hash'
      JOIN pg_amproc p ON p.amprocfamily = oc.opcfamily AND p.amprocnum = 1
                      AND p.amproclefttype = oc.opcintype AND p.amprocrighttype = oc.opcintype
     LIMIT 1
$$;

CREATE FUNCTION pg_catalog.worker_hash(value anyelement) RETURNS integer
LANGUAGE plpgsql STRICT STABLE AS $$
DECLARE
    fn regproc := citus.hash_proc_for_type(pg_typeof(value)::oid);
    h integer;
BEGIN
    IF fn IS NULL THEN
        RAISE EXCEPTION 'cannot find a hash function for the input type';
    END IF;
    EXECUTE format('SELECT %s($1)::integer', fn) INTO h USING value;
    RETURN h;
END
$$;

-- Citus's HashSplitPointsForShardCount / CreateShardsWithRoundRobinPolicy.
CREATE FUNCTION citus.hash_ranges(shard_count integer, OUT idx integer, OUT minvalue integer, OUT maxvalue integer)
RETURNS SETOF record LANGUAGE sql IMMUTABLE AS $$
    SELECT i,
           (-2147483648::bigint + i * (4294967296 / shard_count))::integer,
           CASE WHEN i = shard_count - 1 THEN 2147483647
                ELSE (-2147483648::bigint + (i + 1) * (4294967296 / shard_count) - 1)::integer END
      FROM generate_series(0, shard_count - 1) AS i
$$;

CREATE FUNCTION pg_catalog.column_to_column_name(table_name regclass, column_var_text text)
RETURNS text LANGUAGE sql STRICT STABLE AS $$
    SELECT attname::text FROM pg_attribute
     WHERE attrelid = table_name
       AND attnum = substring(column_var_text FROM ':varattno ([0-9]+)')::integer
$$;

CREATE FUNCTION citus.dist_column(rel regclass, OUT attname text, OUT atttypid oid, OUT attcollation oid)
LANGUAGE sql STABLE AS $$
    SELECT a.attname::text, a.atttypid, a.attcollation
      FROM pg_catalog.pg_dist_partition p
      JOIN pg_attribute a ON a.attrelid = p.logicalrelid
                         AND a.attnum = substring(p.partkey FROM ':varattno ([0-9]+)')::integer
     WHERE p.logicalrelid = rel
$$;

CREATE FUNCTION pg_catalog.get_shard_id_for_distribution_column(table_name regclass, distribution_value anyelement)
RETURNS bigint LANGUAGE plpgsql STABLE AS $$
DECLARE
    col record;
    h integer;
    sid bigint;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition WHERE logicalrelid = table_name) THEN
        RAISE EXCEPTION 'relation is not distributed';
    END IF;
    SELECT * INTO col FROM citus.dist_column(table_name);
    IF col.attname IS NULL THEN
        SELECT shardid INTO sid FROM pg_catalog.pg_dist_shard WHERE logicalrelid = table_name;
        RETURN sid;
    END IF;
    IF distribution_value IS NULL THEN
        RAISE EXCEPTION 'distribution value cannot be NULL for tables other than reference tables.';
    END IF;
    -- Citus prints the value with its own output function and re-parses it as the column type.
    EXECUTE format('SELECT pg_catalog.worker_hash($1::text::%s)', col.atttypid::regtype)
       INTO h USING distribution_value;
    SELECT shardid INTO sid FROM pg_catalog.pg_dist_shard
     WHERE logicalrelid = table_name AND h BETWEEN shardminvalue::integer AND shardmaxvalue::integer;
    RETURN coalesce(sid, 0);
END
$$;

CREATE FUNCTION pg_catalog.get_shard_id_for_distribution_column(table_name regclass)
RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT shardid FROM pg_catalog.pg_dist_shard WHERE logicalrelid = table_name ORDER BY shardid LIMIT 1
$$;

-- -------------------------------------------------------------------------------------------------
-- Distribution
-- -------------------------------------------------------------------------------------------------

-- Nodes that get shards, in Citus's order; in an empty cluster the first distribution inserts a
-- placeholder coordinator row (InsertCoordinatorIfClusterEmpty).
CREATE FUNCTION citus.shard_groups() RETURNS integer[]
LANGUAGE plpgsql AS $$
DECLARE
    groups integer[];
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_node) THEN
        INSERT INTO pg_catalog.pg_dist_node (groupid, nodename, nodeport, hasmetadata, metadatasynced, shouldhaveshards)
        VALUES (0, 'localhost', current_setting('port')::integer, true, true, true);
    END IF;
    SELECT array_agg(groupid ORDER BY nodename, nodeport) INTO groups
      FROM pg_catalog.pg_dist_node
     WHERE isactive AND noderole = 'primary' AND shouldhaveshards;
    IF groups IS NULL THEN
        RAISE EXCEPTION 'no worker nodes are available for placing shards';
    END IF;
    RETURN groups;
END
$$;

CREATE FUNCTION citus.shard_table_name(rel regclass, shardid bigint) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT format('%I.%I', n.nspname, c.relname || '_' || shardid)
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = rel
$$;

-- Creates shard tables and metadata for `rel` in colocation group `colocation_id`, copying the
-- ranges and placements of the group's first table when it has one.
CREATE FUNCTION citus.create_shards(rel regclass, colocation_id integer, shard_count integer)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    anchor regclass;
    groups integer[];
    r record;
    sid bigint;
    col record;
BEGIN
    SELECT min(logicalrelid::oid)::regclass INTO anchor
      FROM pg_catalog.pg_dist_partition
     WHERE colocationid = colocation_id AND logicalrelid <> rel;
    SELECT * INTO col FROM citus.dist_column(rel);
    IF anchor IS NOT NULL THEN
        FOR r IN SELECT s.shardminvalue, s.shardmaxvalue,
                        (SELECT array_agg(p.groupid ORDER BY p.groupid) FROM pg_catalog.pg_dist_placement p WHERE p.shardid = s.shardid) AS pgroups
                   FROM pg_catalog.pg_dist_shard s WHERE s.logicalrelid = anchor
                  ORDER BY s.shardminvalue::integer LOOP
            sid := nextval('pg_catalog.pg_dist_shardid_seq');
            INSERT INTO pg_catalog.pg_dist_shard VALUES (rel, sid, 't', r.shardminvalue, r.shardmaxvalue);
            INSERT INTO pg_catalog.pg_dist_placement (shardid, shardstate, shardlength, groupid)
                 SELECT sid, 1, 0, g FROM unnest(r.pgroups) AS g;
            PERFORM citus.create_shard_table(rel, sid, col.attname, r.shardminvalue::integer, r.shardmaxvalue::integer);
        END LOOP;
    ELSE
        groups := citus.shard_groups();
        FOR r IN SELECT * FROM citus.hash_ranges(shard_count) LOOP
            sid := nextval('pg_catalog.pg_dist_shardid_seq');
            INSERT INTO pg_catalog.pg_dist_shard VALUES (rel, sid, 't', r.minvalue::text, r.maxvalue::text);
            INSERT INTO pg_catalog.pg_dist_placement (shardid, shardstate, shardlength, groupid)
                 VALUES (sid, 1, 0, groups[1 + r.idx % array_length(groups, 1)]);
            PERFORM citus.create_shard_table(rel, sid, col.attname, r.minvalue, r.maxvalue);
        END LOOP;
    END IF;
END
$$;

-- The shard relation <table>_<shardid>, filled with the shell's rows that hash into its range.
CREATE FUNCTION citus.create_shard_table(rel regclass, sid bigint, colname text, lo integer, hi integer)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    typ oid := (SELECT a.atttypid FROM pg_attribute a WHERE a.attrelid = rel AND a.attname = colname);
    fn regproc := citus.hash_proc_for_type(typ);
    hash text := 'pg_catalog.worker_hash';
BEGIN
    -- the hash function called directly where it takes the column's type (the same values as
    -- worker_hash, which looks it up again for every row)
    IF (SELECT p.proargtypes[0] FROM pg_proc p WHERE p.oid = fn) = typ THEN
        hash := fn::text;
    END IF;
    EXECUTE format('CREATE TABLE %s (LIKE %s INCLUDING ALL)', citus.shard_table_name(rel, sid), rel);
    EXECUTE format('INSERT INTO %s SELECT * FROM ONLY %s WHERE %s(%I)::integer BETWEEN %s AND %s',
                   citus.shard_table_name(rel, sid), rel, hash, colname, lo, hi);
END
$$;

-- Which Citus the double plays.
CREATE FUNCTION citus.major() RETURNS integer LANGUAGE sql STABLE AS
$$ SELECT coalesce(nullif(current_setting('citus_double.major', true), '')::integer, 13) $$;

-- coll: the collation the default lookup is keyed on; col_coll: the column's own collation.
CREATE FUNCTION citus.colocation_for_new_table(rel regclass, typ oid, coll oid, colocate_with text,
                                               shard_count integer, strict boolean, rf integer,
                                               col_coll oid DEFAULT NULL)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    cid integer;
    other regclass;
    other_col record;
BEGIN
    IF lower(colocate_with) = 'default' THEN
        SELECT c.colocationid INTO cid
          FROM pg_catalog.pg_dist_colocation c
         WHERE c.distributioncolumntype = typ AND c.distributioncolumncollation = coll
           AND c.shardcount = shard_count AND c.replicationfactor = rf
           AND (NOT strict OR shard_count = (
                SELECT count(*) FROM pg_catalog.pg_dist_shard s
                 WHERE s.logicalrelid = (SELECT min(p.logicalrelid::oid)::regclass FROM pg_catalog.pg_dist_partition p
                                          WHERE p.colocationid = c.colocationid)))
         ORDER BY c.colocationid LIMIT 1;
    ELSIF lower(colocate_with) <> 'none' THEN
        other := colocate_with::regclass;
        SELECT p.colocationid INTO cid FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = other;
        IF cid IS NULL THEN
            RAISE EXCEPTION 'cannot distribute relation' USING DETAIL = format('Relation %s is not distributed.', other);
        END IF;
        SELECT * INTO other_col FROM citus.dist_column(other);
        IF other_col.atttypid IS DISTINCT FROM typ THEN
            RAISE EXCEPTION 'cannot colocate tables % and %', other, rel
                USING DETAIL = format('Distribution column types don''t match for %s and %s.', other, rel);
        END IF;
        IF citus.major() >= 14 AND other_col.attcollation IS DISTINCT FROM coalesce(col_coll, coll) THEN
            RAISE EXCEPTION 'cannot colocate tables % and %', other, rel
                USING DETAIL = format('Distribution column collations don''t match for %s and %s.', other, rel);
        END IF;
        RETURN cid;
    END IF;
    IF cid IS NULL THEN
        cid := nextval('pg_catalog.pg_dist_colocationid_seq');
        INSERT INTO pg_catalog.pg_dist_colocation VALUES (cid, shard_count, rf, typ, coll);
    END IF;
    RETURN cid;
END
$$;

CREATE FUNCTION citus.distribute(table_name regclass, distribution_column text,
                                 distribution_type citus.distribution_type, colocate_with text,
                                 shard_count integer, is_concurrent boolean)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    att record;
    n integer;
    rf integer := coalesce(nullif(current_setting('citus.shard_replication_factor', true), '')::integer, 1);
    cid integer;
BEGIN
    IF table_name IS NULL THEN
        RAISE EXCEPTION 'table_name cannot be NULL';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition WHERE logicalrelid = table_name) THEN
        RAISE EXCEPTION 'table "%" is already distributed', (SELECT relname FROM pg_class WHERE oid = table_name);
    END IF;
    IF shard_count IS NOT NULL AND lower(colocate_with) NOT IN ('default', 'none') THEN
        RAISE EXCEPTION 'Cannot use colocate_with with a table and shard_count at the same time';
    END IF;
    IF NOT is_concurrent AND shard_count IS NOT NULL AND (shard_count < 1 OR shard_count > 64000) THEN
        RAISE EXCEPTION '% is outside the valid range for parameter "shard_count" (1 .. 64000)', shard_count;
    END IF;
    IF is_concurrent AND shard_count IS NOT NULL AND shard_count = 0 THEN
        -- real Citus: SIGFPE in HashSplitPointsForShardCount
        RAISE EXCEPTION 'floating-point exception' USING ERRCODE = 'floating_point_exception';
    END IF;
    IF distribution_type <> 'hash' THEN
        RAISE EXCEPTION 'the citus-sidecar test double only implements hash distribution';
    END IF;
    SELECT a.attnum, a.atttypid, a.atttypmod, a.attcollation INTO att
      FROM pg_attribute a
     WHERE a.attrelid = table_name AND a.attname = distribution_column AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'column "%" of relation "%" does not exist', distribution_column,
              (SELECT relname FROM pg_class WHERE oid = table_name) USING ERRCODE = 'undefined_column';
    END IF;
    IF citus.hash_proc_for_type(att.atttypid) IS NULL THEN
        RAISE EXCEPTION 'could not identify a hash function for type %', att.atttypid::regtype;
    END IF;
    n := coalesce(shard_count, nullif(current_setting('citus.shard_count', true), '')::integer, 32);
    PERFORM pg_advisory_xact_lock(54321, 0);   -- CITUS_CREATE_COLOCATION_DEFAULT
    cid := citus.colocation_for_new_table(table_name, att.atttypid,
                                          CASE WHEN citus.major() >= 14 OR is_concurrent THEN att.attcollation
                                               ELSE (SELECT typcollation FROM pg_type WHERE oid = att.atttypid) END,
                                          colocate_with, n, shard_count IS NOT NULL, rf, att.attcollation);
    INSERT INTO pg_catalog.pg_dist_partition VALUES (
        table_name, 'h',
        format('{VAR :varno 1 :varattno %s :vartype %s :vartypmod %s :varcollid %s :varlevelsup 0 :varnosyn 1 :varattnosyn %s :location -1}',
               att.attnum, att.atttypid, att.atttypmod, att.attcollation, att.attnum),
        cid, CASE WHEN rf = 1 THEN 's' ELSE 'c' END, false);
    PERFORM citus.create_shards(table_name, cid, n);
    EXECUTE format('TRUNCATE ONLY %s', table_name);
END
$$;

CREATE FUNCTION pg_catalog.create_distributed_table(table_name regclass, distribution_column text,
        distribution_type citus.distribution_type DEFAULT 'hash', colocate_with text DEFAULT 'default',
        shard_count integer DEFAULT NULL)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM citus.distribute(table_name, distribution_column, distribution_type, colocate_with, shard_count, false);
END
$$;

CREATE FUNCTION pg_catalog.create_distributed_table_concurrently(table_name regclass, distribution_column text,
        distribution_type citus.distribution_type DEFAULT 'hash', colocate_with text DEFAULT 'default',
        shard_count integer DEFAULT NULL)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM citus.distribute(table_name, distribution_column, distribution_type, colocate_with, shard_count, true);
END
$$;

-- Moves the rows back into the shell, drops the shards and the metadata, and the colocation
-- group once no table is left in it (DeleteColocationGroupIfNoTablesBelong).
CREATE FUNCTION citus.undistribute(rel regclass) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    s record;
    cid integer;
BEGIN
    SELECT colocationid INTO cid FROM pg_catalog.pg_dist_partition WHERE logicalrelid = rel;
    FOR s IN SELECT shardid FROM pg_catalog.pg_dist_shard WHERE logicalrelid = rel ORDER BY shardid LOOP
        EXECUTE format('INSERT INTO %s SELECT * FROM %s', rel, citus.shard_table_name(rel, s.shardid));
        EXECUTE format('DROP TABLE %s', citus.shard_table_name(rel, s.shardid));
        DELETE FROM pg_catalog.pg_dist_placement WHERE shardid = s.shardid;
    END LOOP;
    DELETE FROM pg_catalog.pg_dist_shard WHERE logicalrelid = rel;
    DELETE FROM pg_catalog.pg_dist_partition WHERE logicalrelid = rel;
    DELETE FROM pg_catalog.pg_dist_colocation c
     WHERE c.colocationid = cid
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition p WHERE p.colocationid = cid);
END
$$;

CREATE FUNCTION pg_catalog.undistribute_table(table_name regclass, cascade_via_foreign_keys boolean DEFAULT false)
RETURNS void LANGUAGE plpgsql STRICT AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition WHERE logicalrelid = table_name) THEN
        RAISE EXCEPTION 'cannot undistribute table because the table is not distributed';
    END IF;
    PERFORM citus.undistribute(table_name);
END
$$;

CREATE FUNCTION pg_catalog.alter_distributed_table(table_name regclass, distribution_column text DEFAULT NULL,
        shard_count integer DEFAULT NULL, colocate_with text DEFAULT NULL, cascade_to_colocated boolean DEFAULT NULL)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    cur record;
    cid integer;
    siblings regclass[];
    t regclass;
    n integer;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition WHERE logicalrelid = table_name) THEN
        RAISE EXCEPTION 'cannot alter table because the table is not distributed';
    END IF;
    IF distribution_column IS NULL AND shard_count IS NULL AND colocate_with IS NULL THEN
        RAISE EXCEPTION 'you have to specify at least one of the distribution_column, shard_count or colocate_with parameters';
    END IF;
    IF shard_count = 0 THEN
        RAISE EXCEPTION 'shard_count cannot be 0' USING HINT = 'if you no longer want this to be a distributed table you can try undistribute_table() function';
    END IF;
    SELECT * INTO cur FROM citus.dist_column(table_name);
    SELECT colocationid INTO cid FROM pg_catalog.pg_dist_partition WHERE logicalrelid = table_name;
    SELECT array_agg(logicalrelid ORDER BY logicalrelid) INTO siblings FROM pg_catalog.pg_dist_partition
     WHERE colocationid = cid AND logicalrelid <> table_name;
    IF siblings IS NOT NULL AND cascade_to_colocated IS NULL
       AND (shard_count IS NOT NULL OR colocate_with IS NOT NULL) THEN
        RAISE EXCEPTION 'cascade_to_colocated parameter is necessary'
            USING DETAIL = 'this table is colocated with some other tables',
                  HINT = 'cascade_to_colocated := false will break the current colocation, cascade_to_colocated := true will change the shard count of colocated tables too.';
    END IF;
    IF shard_count < 0 THEN
        RAISE EXCEPTION 'shard_count must be positive';
    END IF;
    IF citus.major() >= 14 THEN
        DECLARE
            new_coll oid := (SELECT attcollation FROM pg_attribute WHERE attrelid = table_name
                              AND attname = coalesce(distribution_column, cur.attname));
            new_typ oid := (SELECT atttypid FROM pg_attribute WHERE attrelid = table_name
                             AND attname = coalesce(distribution_column, cur.attname));
            other record;
        BEGIN
            IF colocate_with IS NOT NULL AND colocate_with NOT IN ('default', 'none') THEN
                SELECT * INTO other FROM citus.dist_column(colocate_with::regclass);
                IF other.attcollation IS DISTINCT FROM new_coll THEN
                    IF distribution_column IS NOT NULL THEN
                        RAISE EXCEPTION 'cannot colocate with % and change distribution column to % because collation of column % is different than the distribution column of the %',
                            colocate_with, distribution_column, distribution_column, colocate_with;
                    END IF;
                    RAISE EXCEPTION 'cannot colocate with % because collation of its distribution column is different than %',
                        colocate_with, table_name;
                END IF;
            ELSIF distribution_column IS NOT NULL AND shard_count IS NULL AND colocate_with IS NULL
                  AND new_typ = cur.atttypid AND new_coll IS DISTINCT FROM cur.attcollation THEN
                RAISE EXCEPTION 'cannot colocate tables % and %_%', table_name, table_name, abs(hashtext(table_name::text))
                    USING DETAIL = format('Distribution column collations don''t match for %s and %s_%s.', table_name, table_name, abs(hashtext(table_name::text)));
            END IF;
        END;
    END IF;
    -- alter_table.c:2071-2087: with a table in colocate_with, shard_count may only repeat its
    -- shard count (the new table takes that table's shards).
    IF colocate_with IS NOT NULL AND colocate_with NOT IN ('default', 'none') THEN
        IF shard_count IS NOT NULL AND shard_count <> (SELECT count(*) FROM pg_catalog.pg_dist_shard
                                                        WHERE logicalrelid = colocate_with::regclass) THEN
            RAISE EXCEPTION 'shard_count cannot be different than the shard count of the table in colocate_with'
                USING HINT = 'if no shard_count is specified shard count will be same with colocate_with table''s';
        END IF;
    END IF;
    n := CASE WHEN colocate_with IS NOT NULL AND colocate_with NOT IN ('default', 'none') THEN NULL
              ELSE coalesce(shard_count, (SELECT count(*) FROM pg_catalog.pg_dist_shard WHERE logicalrelid = table_name)::integer) END;
    PERFORM citus.undistribute(table_name);
    PERFORM citus.distribute(table_name, coalesce(distribution_column, cur.attname), 'hash',
                             coalesce(colocate_with, 'default'),
                             n, false);
    IF cascade_to_colocated AND siblings IS NOT NULL THEN
        FOREACH t IN ARRAY siblings LOOP
            SELECT attname INTO cur FROM citus.dist_column(t);
            PERFORM citus.undistribute(t);
            PERFORM citus.distribute(t, cur.attname, 'hash', table_name::text, NULL, false);
        END LOOP;
    END IF;
END
$$;

CREATE FUNCTION pg_catalog.update_distributed_table_colocation(table_name regclass, colocate_with text)
RETURNS void LANGUAGE plpgsql STRICT AS $$
BEGIN
    PERFORM citus.update_colocation(table_name, colocate_with);
END
$$;

CREATE FUNCTION citus.update_colocation(table_name regclass, colocate_with text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    old_cid integer;
    new_cid integer;
    col record;
    n integer;
BEGIN
    SELECT colocationid INTO old_cid FROM pg_catalog.pg_dist_partition WHERE logicalrelid = table_name;
    IF old_cid IS NULL THEN
        RAISE EXCEPTION 'relation % should be a hash or single shard distributed table', table_name;
    END IF;
    IF lower(colocate_with) = 'none' THEN
        SELECT * INTO col FROM citus.dist_column(table_name);
        n := (SELECT count(*) FROM pg_catalog.pg_dist_shard WHERE logicalrelid = table_name);
        new_cid := nextval('pg_catalog.pg_dist_colocationid_seq');
        INSERT INTO pg_catalog.pg_dist_colocation VALUES (new_cid, n,
            (SELECT replicationfactor FROM pg_catalog.pg_dist_colocation WHERE colocationid = old_cid),
            col.atttypid, col.attcollation);
    ELSE
        SELECT colocationid INTO new_cid FROM pg_catalog.pg_dist_partition WHERE logicalrelid = colocate_with::regclass;
        SELECT * INTO col FROM citus.dist_column(table_name);
        IF col.atttypid IS DISTINCT FROM (SELECT atttypid FROM citus.dist_column(colocate_with::regclass)) THEN
            RAISE EXCEPTION 'cannot colocate tables % and %', colocate_with::regclass, table_name
                USING DETAIL = format('Distribution column types don''t match for %s and %s.', colocate_with::regclass, table_name);
        END IF;
        IF col.attcollation IS DISTINCT FROM (SELECT attcollation FROM citus.dist_column(colocate_with::regclass)) THEN
            RAISE EXCEPTION 'cannot colocate tables % and %', colocate_with::regclass, table_name
                USING DETAIL = format('Distribution column collations don''t match for %s and %s.', colocate_with::regclass, table_name);
        END IF;
        IF (SELECT count(*) FROM pg_catalog.pg_dist_shard WHERE logicalrelid = table_name)
           <> (SELECT count(*) FROM pg_catalog.pg_dist_shard WHERE logicalrelid = colocate_with::regclass) THEN
            RAISE EXCEPTION 'cannot colocate tables % and %', colocate_with::regclass, table_name
                USING DETAIL = 'Shard counts don''t match.';
        END IF;
    END IF;
    UPDATE pg_catalog.pg_dist_partition SET colocationid = new_cid WHERE logicalrelid = table_name;
    DELETE FROM pg_catalog.pg_dist_colocation c
     WHERE c.colocationid = old_cid
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition p WHERE p.colocationid = old_cid);
END
$$;

-- Citus 14's upgrade step, copied from Citus 14.0.1
-- (udfs/fix_pre_citus14_colocation_group_collation_mismatches/14.0-1.sql): moves the tables of a
-- colocation group whose distribution column collation differs from the group's out, through
-- update_distributed_table_colocation. Created in both flavours; only 14 has it in real Citus.
CREATE FUNCTION pg_catalog.fix_pre_citus14_colocation_group_collation_mismatches()
RETURNS VOID AS $func$
DECLARE
    v_colocationid oid;
    v_tables_to_move_out_grouped_by_collation json;
    v_collationid oid;
    v_tables_to_move_out oid[];
    v_table_to_move_out oid;
    v_first_table oid;
BEGIN
    SET LOCAL search_path TO pg_catalog, pg_temp;

    FOR v_colocationid, v_tables_to_move_out_grouped_by_collation
    IN
       WITH colocation_groups_and_tables_with_collation_mismatches AS (
           SELECT pdc.colocationid, pa.attcollation as distkeycollation, pdp.logicalrelid
             FROM pg_dist_colocation pdc
             JOIN pg_dist_partition pdp
               ON pdc.colocationid = pdp.colocationid
             JOIN pg_attribute pa
               ON pa.attrelid = pdp.logicalrelid
              AND pa.attname = column_to_column_name(pdp.logicalrelid, pdp.partkey)
                  -- column_to_column_name() returns NULL if partkey is NULL, so we're already
                  -- implicitly ignoring the tables that don't have a distribution column, such
                  -- as reference tables, but let's still explicitly discard such tables below.
            WHERE pdp.partkey IS NOT NULL
                  -- ignore the table if its distribution column collation matches the collation saved for the colocation group
              AND pdc.distributioncolumncollation != pa.attcollation
       )
       SELECT
           colocationid,
           json_object_agg(distkeycollation, rels) AS tables_to_move_out_grouped_by_collation
       FROM (
               SELECT colocationid,
                      distkeycollation,
                      array_agg(logicalrelid::oid) AS rels
                 FROM colocation_groups_and_tables_with_collation_mismatches
             GROUP BY colocationid, distkeycollation
       ) q
       GROUP BY colocationid
    LOOP
        RAISE DEBUG 'Processing colocation group with id %', v_colocationid;

        FOR v_collationid, v_tables_to_move_out
        IN
              SELECT key::oid AS collationid,
                     array_agg(elem::oid) AS tables_to_move_out
                FROM json_each(v_tables_to_move_out_grouped_by_collation) AS e(key, value),
             LATERAL json_array_elements_text(e.value) AS elem
            GROUP BY key
        LOOP
            RAISE DEBUG 'Moving out tables with collation id % from colocation group %', v_collationid, v_colocationid;

            v_first_table := NULL;

            FOR v_table_to_move_out IN SELECT unnest(v_tables_to_move_out)
            LOOP
                IF v_first_table IS NULL then
                    -- Move the first table out to start a new colocation group.
                    --
                    -- Could check if there is an appropriate colocation group to move to instead of 'none',
                    -- but this won't be super easy. Plus, even if we had such a colocation group, the user
                    -- was anyways okay with having this in a different colocation group in the first place.

                    RAISE DEBUG 'Moving out table with oid % to a new colocation group', v_table_to_move_out;
                    PERFORM update_distributed_table_colocation(v_table_to_move_out, colocate_with => 'none');

                    -- save the first table to colocate the rest of the tables with it
                    v_first_table := v_table_to_move_out;
                ELSE
                    -- Move the rest of the tables to colocate with the first table.

                    RAISE DEBUG 'Moving out table with oid % to colocate with table with oid %', v_table_to_move_out, v_first_table;
                    PERFORM update_distributed_table_colocation(v_table_to_move_out, colocate_with => v_first_table::regclass::text);
                END IF;
            END LOOP;
        END LOOP;
    END LOOP;
END;
$func$
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION pg_catalog.fix_pre_citus14_colocation_group_collation_mismatches()
  IS 'Fix distributed tables whose colocation group collations do not match their distribution columns by moving them to new colocation groups';

-- -------------------------------------------------------------------------------------------------
-- Reaching nodes. The double is a single node: commands run locally for group 0 (or when
-- pg_dist_node is empty); any other node listed in pg_dist_node is unreachable and comes back as
-- a failed row, as real Citus reports a node it cannot connect to.
-- -------------------------------------------------------------------------------------------------

CREATE SCHEMA citus_double;
CREATE FUNCTION citus_double.run_local(command text, OUT success boolean, OUT result text)
LANGUAGE plpgsql AS $$
BEGIN
    command := regexp_replace(command, '^(\s*--[^\n]*\n)+', '');   -- leading comments
    IF command ~* '^\s*(select|with|values|table)\M' THEN
        -- like Citus: the text form of the first column of the first row
        EXECUTE format('SELECT format(''%%s'', q.first_column) FROM (%s) AS q(first_column) LIMIT 1', command) INTO result;
    ELSE
        EXECUTE command;
        result := upper(split_part(btrim(command), ' ', 1));
    END IF;
    success := true;
EXCEPTION WHEN OTHERS THEN
    success := false;
    result := SQLERRM;
END
$$;

-- Citus's C function behind every run_command_on_*: one command per (node name, port), the
-- local node's run here, any other node unreachable; rows in the input's order.
CREATE FUNCTION pg_catalog.master_run_on_worker(worker_name text[], port integer[], command text[], parallel boolean,
        OUT node_name text, OUT node_port integer, OUT success boolean, OUT result text)
RETURNS SETOF record LANGUAGE plpgsql AS $$
DECLARE
    o record;
BEGIN
    FOR i IN 1 .. coalesce(array_length(command, 1), 0) LOOP
        node_name := worker_name[i]; node_port := port[i];
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_dist_node n
                    WHERE n.nodename = worker_name[i] AND n.nodeport = port[i] AND n.groupid = 0)
           OR (NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_node) AND port[i] = current_setting('port')::integer) THEN
            o := citus_double.run_local(command[i]);
            success := o.success; result := o.result;
        ELSE
            success := false;
            result := format('failed to connect to %s:%s', worker_name[i], port[i]);
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;

CREATE FUNCTION pg_catalog.run_command_on_placements(table_name regclass, command text, parallel boolean DEFAULT true,
        OUT nodename text, OUT nodeport integer, OUT shardid bigint, OUT success boolean, OUT result text)
RETURNS SETOF record LANGUAGE plpgsql AS $$
DECLARE
    r record;
    o record;
BEGIN
    FOR r IN SELECT s.shardid AS sid, n.nodename AS nn, n.nodeport AS np, p.groupid AS g
               FROM pg_catalog.pg_dist_shard s
               JOIN pg_catalog.pg_dist_placement p ON p.shardid = s.shardid
               JOIN pg_catalog.pg_dist_node n ON n.groupid = p.groupid AND n.noderole = 'primary'
              WHERE s.logicalrelid = table_name
              ORDER BY s.shardid, n.nodename, n.nodeport LOOP
        nodename := r.nn; nodeport := r.np; shardid := r.sid;
        IF r.g = 0 THEN
            o := citus_double.run_local(format(command, citus.shard_table_name(table_name, r.sid)));
            success := o.success; result := o.result;
        ELSE
            success := false;
            result := format('failed to connect to %s:%s', r.nn, r.np);
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;

-- citus_run_local_command(command): runs the SQL it is given, in this session (as in Citus).
CREATE FUNCTION pg_catalog.citus_run_local_command(command text) RETURNS void
LANGUAGE plpgsql AS $$ BEGIN EXECUTE $1; END; $$;

CREATE FUNCTION pg_catalog.run_command_on_all_nodes(command text, parallel boolean DEFAULT true,
        give_warning_for_connection_errors boolean DEFAULT false,
        OUT nodeid integer, OUT success boolean, OUT result text)
RETURNS SETOF record LANGUAGE plpgsql AS $$
DECLARE
    r record;
    o record;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_node WHERE groupid = 0) THEN
        o := citus_double.run_local(command);
        nodeid := 0; success := o.success; result := o.result;
        RETURN NEXT;
    END IF;
    FOR r IN SELECT n.nodeid AS id, n.groupid AS g, n.nodename AS nn, n.nodeport AS np FROM pg_catalog.pg_dist_node n
              WHERE n.isactive AND n.noderole = 'primary' ORDER BY n.nodeid LOOP
        nodeid := r.id;
        IF r.g = 0 THEN
            o := citus_double.run_local(command);
            success := o.success; result := o.result;
        ELSE
            success := false;
            result := format('failed to connect to %s:%s', r.nn, r.np);
            IF give_warning_for_connection_errors THEN
                RAISE WARNING 'Error on node with node id %: %', r.id, result;
            END IF;
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;

CREATE FUNCTION pg_catalog.run_command_on_workers(command text, parallel boolean DEFAULT true,
        OUT nodename text, OUT nodeport integer, OUT success boolean, OUT result text)
RETURNS SETOF record LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT n.nodename AS nn, n.nodeport AS np FROM pg_catalog.pg_dist_node n
              WHERE n.isactive AND n.noderole = 'primary' AND n.groupid <> 0 ORDER BY n.nodename, n.nodeport LOOP
        nodename := r.nn; nodeport := r.np;
        success := false;
        result := format('failed to connect to %s:%s', r.nn, r.np);
        RETURN NEXT;
    END LOOP;
END
$$;

-- -------------------------------------------------------------------------------------------------
-- Tenant statistics. Real Citus records them on the node that runs each shard query when
-- citus.stat_tenants_track = 'all'; the double reads them from a table the tests fill.
-- -------------------------------------------------------------------------------------------------
CREATE TABLE citus_double.stat_tenants (
    nodeid integer NOT NULL DEFAULT 1, colocation_id integer NOT NULL, tenant_attribute text NOT NULL,
    read_count_in_this_period integer NOT NULL DEFAULT 0, read_count_in_last_period integer NOT NULL DEFAULT 0,
    query_count_in_this_period integer NOT NULL DEFAULT 0, query_count_in_last_period integer NOT NULL DEFAULT 0,
    cpu_usage_in_this_period float8 NOT NULL DEFAULT 0, cpu_usage_in_last_period float8 NOT NULL DEFAULT 0);

CREATE FUNCTION pg_catalog.citus_stat_tenants(return_all_tenants boolean DEFAULT false,
        OUT nodeid integer, OUT colocation_id integer, OUT tenant_attribute text,
        OUT read_count_in_this_period integer, OUT read_count_in_last_period integer,
        OUT query_count_in_this_period integer, OUT query_count_in_last_period integer,
        OUT cpu_usage_in_this_period float8, OUT cpu_usage_in_last_period float8, OUT score bigint)
RETURNS SETOF record LANGUAGE sql STABLE AS $$
    SELECT s.*, (s.query_count_in_this_period + s.query_count_in_last_period)::bigint
      FROM citus_double.stat_tenants s
     ORDER BY 10 DESC
     LIMIT CASE WHEN return_all_tenants THEN NULL ELSE 100 END
$$;

CREATE FUNCTION pg_catalog.citus_stat_tenants_local(return_all_tenants boolean DEFAULT false,
        OUT colocation_id integer, OUT tenant_attribute text,
        OUT read_count_in_this_period integer, OUT read_count_in_last_period integer,
        OUT query_count_in_this_period integer, OUT query_count_in_last_period integer,
        OUT cpu_usage_in_this_period float8, OUT cpu_usage_in_last_period float8, OUT score bigint)
RETURNS SETOF record LANGUAGE sql STABLE AS $$
    SELECT s.colocation_id, s.tenant_attribute, s.read_count_in_this_period, s.read_count_in_last_period,
           s.query_count_in_this_period, s.query_count_in_last_period, s.cpu_usage_in_this_period,
           s.cpu_usage_in_last_period, (s.query_count_in_this_period + s.query_count_in_last_period)::bigint
      FROM citus_double.stat_tenants s
     ORDER BY 9 DESC
     LIMIT CASE WHEN return_all_tenants THEN NULL ELSE 100 END
$$;

-- Internal functions write the catalogs whoever calls them, as Citus's C code does.
DO $$
DECLARE f regprocedure;
BEGIN
    FOR f IN SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
              WHERE p.pronamespace = 'citus'::regnamespace AND l.lanname = 'plpgsql' LOOP
        EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER', f);
    END LOOP;
END
$$;

RESET client_min_messages;
