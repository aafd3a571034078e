-- A migration with a typo on line 5.
CREATE TABLE ok (id bigint PRIMARY KEY);
SELECT create_distributed_table('ok', 'id');

SELEC create_distributed_table('ok', 'id');
