-- Column types, collations and keys, of tables the script creates and of existing ones.
CREATE TYPE tier AS ENUM ('free', 'pro');
CREATE TABLE plans (plan tier PRIMARY KEY, price numeric);
SELECT create_distributed_table('plans', 'plan');
CREATE TABLE feelings (f mood[] NOT NULL, id bigserial PRIMARY KEY);
SELECT create_distributed_table('feelings', 'f');
CREATE TABLE toggles (t flag, id int);
SELECT create_distributed_table('toggles', 't');
CREATE TABLE names_c (n text COLLATE "C" PRIMARY KEY);
CREATE TABLE names_default (n varchar(20) PRIMARY KEY);
SELECT create_distributed_table('names_c', 'n', shard_count => 24);
SELECT create_distributed_table('names_default', 'n', shard_count => 24);
CREATE TABLE public.events (tenant_id bigint, payload jsonb);
SELECT create_distributed_table('public.events', 'tenant_id', shard_count => 24);
SELECT create_distributed_table('visits', 'feeling');
SELECT create_distributed_table('app."Accounts"', 'region', shard_count => 24);
SELECT create_distributed_table('"app"."Accounts"', 'active', shard_count => 24);
-- A table the script creates with a name that needs quoting: the statements to paste quote it.
CREATE TABLE "Order Items; DROP TABLE plans; --" (id bigint);
SELECT create_distributed_table('"Order Items; DROP TABLE plans; --"', 'id', shard_count => 24);
