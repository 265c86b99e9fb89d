\set k random(1, @N@)
SELECT k, t, i, f FROM @TABLE@ WHERE k = :k;
