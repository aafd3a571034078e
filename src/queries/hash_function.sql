(WITH RECURSIVE base(oid, typtype, typbasetype, depth) AS (
      SELECT t.oid, t.typtype, t.typbasetype, 0 FROM pg_catalog.pg_type t WHERE t.oid = a.atttypid
      UNION ALL
      SELECT t.oid, t.typtype, t.typbasetype, b.depth + 1
        FROM base b JOIN pg_catalog.pg_type t ON t.oid = b.typbasetype
       WHERE b.typtype = 'd' AND b.depth < 64),
    bt AS (SELECT oid FROM base WHERE typtype <> 'd' ORDER BY depth LIMIT 1),
    cls AS (
      SELECT oc.opcintype, oc.opcfamily, oc.opcintype = bt.oid AS exact, it.typispreferred AS preferred
        FROM bt
        JOIN pg_catalog.pg_opclass oc ON oc.opcdefault
             AND (oc.opcintype = bt.oid
                  OR EXISTS (SELECT 1 FROM pg_catalog.pg_cast k
                              WHERE k.castsource = bt.oid AND k.casttarget = oc.opcintype
                                AND k.castmethod = 'b' AND k.castcontext = 'i'))
        JOIN pg_catalog.pg_am am ON am.oid = oc.opcmethod AND am.amname = 'hash'
        JOIN pg_catalog.pg_type it ON it.oid = oc.opcintype),
    chosen AS (
      SELECT * FROM cls WHERE exact
      UNION ALL
      SELECT * FROM cls
       WHERE NOT EXISTS (SELECT 1 FROM cls WHERE exact)
         AND (preferred OR (SELECT count(*) FROM cls) = 1))
 SELECT 'pg_catalog.' || quote_ident(f.proname)
   FROM chosen c
   JOIN pg_catalog.pg_amproc ap ON ap.amprocfamily = c.opcfamily AND ap.amprocnum = 1
                               AND ap.amproclefttype = c.opcintype AND ap.amprocrighttype = c.opcintype
   JOIN pg_catalog.pg_proc f ON f.oid = ap.amproc
  WHERE f.pronamespace = 'pg_catalog'::regnamespace
    AND f.pronargs = 1 AND f.proargtypes[0] = c.opcintype
    AND (SELECT count(*) FROM chosen) = 1)
