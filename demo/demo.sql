-- sharedbuf demo: build a bundle from a query, look keys up, join through
-- it, refresh it.  Run by scripts/demo against a throwaway cluster.
\set ECHO queries
\pset footer off
SET client_min_messages = warning;
CREATE EXTENSION sharedbuf;

-- some "slowly changing lookup data": 200,000 users
CREATE TABLE users AS
  SELECT g AS id, 'user ' || g AS name,
         (ARRAY['fr','de','jp','br','us'])[1 + g % 5] AS country,
         (g * 7919) % 1000 AS score
  FROM generate_series(1, 200000) g;

-- build a bundle from a query and a foreign table over it, in one call
SELECT bundle, rows, bytes, distinct_keys, dedup_saved
  FROM sharedbuf_create('user_profile',
         $$SELECT id, name, country, score FROM users$$, key => 'id');

-- key lookups: a constant, an array, a prepared statement
SELECT * FROM user_profile WHERE id = 42;
SELECT * FROM user_profile WHERE id = ANY (ARRAY[1, 2, 3, 2]);
PREPARE profile(int) AS SELECT name, country FROM user_profile WHERE id = $1;
EXECUTE profile(199999);
EXPLAIN (COSTS OFF) SELECT * FROM user_profile WHERE id = 42;

-- a join: each event looks its user up in the bundle
CREATE TABLE events AS
  SELECT g AS event_id, (g * 104729) % 200000 + 1 AS user_id
  FROM generate_series(1, 5000) g;
ANALYZE events;
EXPLAIN (COSTS OFF)
  SELECT u.country, count(*) FROM events e JOIN user_profile u ON u.id = e.user_id GROUP BY 1;
SELECT u.country, count(*) FROM events e JOIN user_profile u ON u.id = e.user_id
  GROUP BY 1 ORDER BY 1;

-- the data changes; a refresh re-runs the stored query and swaps the new
-- bundle in at commit, without blocking readers
UPDATE users SET country = 'it' WHERE id % 10 = 0;
SELECT rows, seconds < 60 AS quick FROM sharedbuf_refresh('user_profile');
SELECT * FROM user_profile WHERE id = 40;

-- what is there
SELECT bundle, rows, bytes, generation, key, status FROM sharedbuf_bundles;
