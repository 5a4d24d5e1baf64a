-- Forget one type's counters and history in one tag (the type was deleted, SPEC §3).
-- KEYS: T:tot, T:h, T:ht, T:h:<type>. ARGV: typeKey, bucket shard, counter fields...
local tot, hist, htypes, thist = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local tag = string.sub(tot, 1, -5)
local fields = {}
local shard = ARGV[2]
for i = 3, #ARGV do fields[#fields + 1] = ARGV[i] end
local state = redis.call('HMGET', tot, '#wm', '#hi')
local wm, hi = tonumber(state[1]), tonumber(state[2])
if wm and hi then
  for b = wm + 1, hi do redis.call('HDEL', tag .. ':c:' .. b .. ':' .. shard, unpack(fields)) end
end
redis.call('HDEL', tot, unpack(fields))
redis.call('DEL', thist)
redis.call('ZREM', htypes, ARGV[1])
local items = redis.call('LRANGE', hist, 0, -1)
local keep = {}
for _, rec in ipairs(items) do
  if cjson.decode(rec).k ~= ARGV[1] then keep[#keep + 1] = rec end
end
if #keep < #items then
  local ttl = redis.call('PTTL', hist)
  redis.call('DEL', hist)
  if #keep > 0 then
    chunked('RPUSH', hist, keep)
    if ttl > 0 then redis.call('PEXPIRE', hist, ttl) end
  end
end
return #items - #keep
