-- Runs on every node, through Citus: the tenants Citus counted there (citus_stat_tenants_local,
-- all of them), per colocation group: queries and CPU seconds in this and the last period.
-- One JSON document: [[colocation_id, tenant, queries, cpu_seconds]].
SELECT coalesce(json_agg(json_build_array(s.colocation_id, s.tenant_attribute,
                         s.query_count_in_this_period + s.query_count_in_last_period,
                         s.cpu_usage_in_this_period + s.cpu_usage_in_last_period)), '[]')::text
  FROM pg_catalog.citus_stat_tenants_local(true) s
