-- The nodes, as the reports need them.
SELECT nodeid, groupid, nodename, nodeport, isactive, noderole::text = 'primary' AS is_primary,
       hasmetadata, coalesce(metadatasynced, false) AS metadatasynced
  FROM pg_catalog.pg_dist_node
 ORDER BY nodeid
