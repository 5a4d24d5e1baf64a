-- Bring one tag's totals up to now (idle partitions; readers then need no correction).
-- KEYS: T:tot. ARGV: now.
local tot = KEYS[1]
if redis.call('EXISTS', tot) == 1 then
  roll(string.sub(tot, 1, -5), tonumber(ARGV[1]))
end
return 0
