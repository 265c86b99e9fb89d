\set r random(1, @N@)
SELECT k, t, i, f FROM @TABLE@ WHERE k = md5(:r::text);
