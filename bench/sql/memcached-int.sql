\set k random(1, @N@)
SELECT memcache_get(:k::text);
