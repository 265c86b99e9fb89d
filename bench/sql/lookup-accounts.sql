\set aid random(1, @N@)
SELECT aid, bid, abalance, filler FROM @TABLE@ WHERE aid = :aid;
