(SELECT 'pg_catalog.' || quote_ident(f.proname)
   FROM pg_catalog.pg_type ty
   JOIN pg_catalog.pg_type bt ON bt.oid = CASE WHEN ty.typtype = 'd' THEN ty.typbasetype ELSE ty.oid END
   JOIN pg_catalog.pg_opclass oc ON oc.opcdefault
        AND (oc.opcintype = bt.oid
             OR EXISTS (SELECT 1 FROM pg_catalog.pg_cast k
                         WHERE k.castsource = bt.oid AND k.casttarget = oc.opcintype AND k.castmethod = 'b'))
   JOIN pg_catalog.pg_am am ON am.oid = oc.opcmethod AND am.amname = 'hash'
   JOIN pg_catalog.pg_amproc ap ON ap.amprocfamily = oc.opcfamily AND ap.amprocnum = 1
                               AND ap.amproclefttype = oc.opcintype AND ap.amprocrighttype = oc.opcintype
   JOIN pg_catalog.pg_proc f ON f.oid = ap.amproc AND f.pronamespace = 'pg_catalog'::regnamespace
  WHERE ty.oid = a.atttypid AND bt.typtype = 'b'
  ORDER BY oc.opcintype = bt.oid DESC
  LIMIT 1)
