-- What the corpus distributes beside, or names: the same objects on the test double (tier 2)
-- and on a real Citus cluster (tier 3).
CREATE TABLE users (user_id bigint PRIMARY KEY, name text);
SELECT create_distributed_table('users', 'user_id', shard_count => 24);
CREATE TYPE mood AS ENUM ('sad', 'happy');
CREATE DOMAIN flag AS boolean;
CREATE SCHEMA app;
CREATE TABLE app."Accounts" (account_id text COLLATE "C" PRIMARY KEY, region text, active flag);
CREATE TABLE visits (visit_id bigint, user_id bigint, feeling mood);
