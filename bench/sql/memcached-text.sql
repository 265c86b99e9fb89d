\set r random(1, @N@)
SELECT memcache_get(md5(:r::text));
