-- Statements timed by bench_rounds(); labels: metric_keytype_store[_variant].
TRUNCATE bench_queries;
INSERT INTO bench_queries
SELECT format('nl_%s_%s%s', kt, st, CASE WHEN e THEN '_empty' ELSE '' END),
       format('SELECT count(*), sum(x.i) FROM probes_%s p JOIN %s_%s%s x ON x.k = p.k',
              kt, st, kt, CASE WHEN e THEN '_e' ELSE '' END)
  FROM unnest(ARRAY['int', 'text']) kt,
       unnest(ARRAY['heap_bt', 'heap_h', 'sb']) st,
       unnest(ARRAY[false, true]) e;
INSERT INTO bench_queries
SELECT format('nl_%s_outer', kt), format('SELECT count(*), sum(length(p.k::text)) FROM probes_%s p', kt)
  FROM unnest(ARRAY['int', 'text']) kt;
-- memcached: one memcache_get per outer row, over the first 100000 probes.
INSERT INTO bench_queries
SELECT format('nlm_%s_%s', kt, CASE WHEN f THEN 'memcached' ELSE 'outer' END),
       format('SELECT count(*), sum(length(%s)) FROM (SELECT k FROM probes_%s LIMIT 100000) p',
              CASE WHEN f THEN 'memcache_get(p.k::text)' ELSE 'p.k::text' END, kt)
  FROM unnest(ARRAY['int', 'text']) kt, unnest(ARRAY[true, false]) f;
-- "= ANY": 100 statements of 1000 keys each.
INSERT INTO bench_queries
SELECT format('any_%s_%s%s', kt, st, CASE WHEN e THEN '_empty' ELSE '' END),
       format('SELECT bench_any(%L, %L)', st || '_' || kt || CASE WHEN e THEN '_e' ELSE '' END, kt)
  FROM unnest(ARRAY['int', 'text']) kt,
       unnest(ARRAY['heap_bt', 'heap_h', 'sb']) st,
       unnest(ARRAY[false, true]) e;
INSERT INTO bench_queries
SELECT format('anym_%s_%s', kt, CASE WHEN f THEN 'memcached' ELSE 'outer' END),
       format('SELECT bench_any_memcached(%L, %L)', kt, f)
  FROM unnest(ARRAY['int', 'text']) kt, unnest(ARRAY[true, false]) f;
