-- Without Citus in the database, the extension refuses to be created and says why.
CREATE DATABASE sidecar_no_citus;
\c sidecar_no_citus
CREATE EXTENSION "citus-sidecar";
-- In a database without the extension, the hooks stay out of the way.
SELECT 1 AS plain_query_works;
\c postgres
DROP DATABASE sidecar_no_citus;
