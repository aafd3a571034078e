-- repair_misplaced_rows() checks that its caller is a superuser; nobody else may even call it.
REVOKE ALL ON FUNCTION repair_misplaced_rows(regclass, boolean, integer) FROM PUBLIC;
COMMENT ON FUNCTION repair_misplaced_rows(regclass, boolean, integer) IS
    'citus-sidecar: moves rows that sit in the wrong shard into the right one through Citus (dry run by default); superuser only';
