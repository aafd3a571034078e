-- Every object of the extension "citus-sidecar", one line each, with what defines it: functions
-- (signature, result, kind, language, volatility, strictness, security, parallel safety, the C
-- symbol and library or the body's md5, settings, privileges), relations (kind, columns with
-- types/defaults/NOT NULL, indexes, constraints, privileges, the view's definition), types, and
-- comments; then the extension's configuration tables. tests/upgrade.sh diffs a fresh install
-- against one upgraded from 0.1.0.
WITH members AS (
    SELECT d.classid, d.objid
      FROM pg_catalog.pg_depend d
      JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid AND d.refclassid = 'pg_catalog.pg_extension'::regclass
     WHERE e.extname = 'citus-sidecar' AND d.deptype = 'e'
)
SELECT pg_catalog.pg_describe_object(m.classid, m.objid, 0) || ' = ' || coalesce(
    CASE m.classid
    WHEN 'pg_catalog.pg_proc'::regclass THEN (
        SELECT concat_ws(' | ', pg_catalog.pg_get_function_arguments(p.oid), pg_catalog.pg_get_function_result(p.oid),
                         p.prokind, l.lanname, p.provolatile, p.proisstrict, p.prosecdef, p.proparallel,
                         CASE WHEN l.lanname = 'c' THEN p.probin || ':' || p.prosrc ELSE md5(p.prosrc) END,
                         array_to_string(p.proconfig, ','), p.proacl::text)
          FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_language l ON l.oid = p.prolang WHERE p.oid = m.objid)
    WHEN 'pg_catalog.pg_class'::regclass THEN (
        SELECT concat_ws(' | ', c.relkind, c.relacl::text,
                         CASE WHEN c.relkind = 'v' THEN md5(pg_catalog.pg_get_viewdef(c.oid)) END,
                         (SELECT string_agg(a.attname || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod)
                                            || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
                                            || coalesce(' default ' || pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), ''),
                                            ', ' ORDER BY a.attnum)
                            FROM pg_catalog.pg_attribute a
                            LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
                           WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
                         (SELECT string_agg(regexp_replace(pg_catalog.pg_get_indexdef(i.indexrelid), ' USING ', ' '), '; ' ORDER BY i.indexrelid::regclass::text)
                            FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid),
                         (SELECT string_agg(co.conname || ' ' || pg_catalog.pg_get_constraintdef(co.oid), '; ' ORDER BY co.conname)
                            FROM pg_catalog.pg_constraint co WHERE co.conrelid = c.oid))
          FROM pg_catalog.pg_class c WHERE c.oid = m.objid)
    WHEN 'pg_catalog.pg_type'::regclass THEN (
        SELECT concat_ws(' | ', t.typtype, (SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder)
                                              FROM pg_catalog.pg_enum WHERE enumtypid = t.oid))
          FROM pg_catalog.pg_type t WHERE t.oid = m.objid)
    END, '') || coalesce(' -- ' || pg_catalog.obj_description(m.objid, (SELECT relname FROM pg_catalog.pg_class WHERE oid = m.classid)), '')
  FROM members m
UNION ALL
SELECT 'configuration: ' || coalesce((SELECT string_agg(c::regclass::text, ', ' ORDER BY c::regclass::text)
                                         FROM pg_catalog.pg_extension e, unnest(e.extconfig) c
                                        WHERE e.extname = 'citus-sidecar'), 'none')
ORDER BY 1;
