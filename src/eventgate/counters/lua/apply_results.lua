-- Count failed workflow commands of one results partition in one error shard
-- (eventgate.counters.results). Each commandId counts once in the window (DISTINCT).
-- KEYS: T:m, T:tot, T:f, T:fq (T = the shard's hash tag).
-- ARGV[1]: JSON {s: [partition, to, now, cap],
--                e: [position, commandId, typeKey, bucket, shard, ...]}
-- Returns {storedBefore, counted}. Entries below the stored position of that results
-- partition were applied before and change nothing.
local meta, failed, queue = KEYS[1], KEYS[3], KEYS[4]
local tag = string.sub(meta, 1, -3)
local doc = cjson.decode(ARGV[1])
local part, to, now, cap = doc.s[1], doc.s[2], doc.s[3], doc.s[4]
local field = 'q' .. part
local stored = tonumber(redis.call('HGET', meta, field)) or -1
local e = doc.e
local counted = 0
if to > stored then
  local c = counter(tag, now)
  local queued = {}
  for i = 1, #e, 5 do
    if e[i] >= stored and redis.call('HSETNX', failed, e[i + 1], 1) == 1 then
      c.add(e[i + 3], e[i + 4], 'e' .. e[i + 2], 1)
      queued[#queued + 1] = now .. ':' .. e[i + 1]
      counted = counted + 1
    end
  end
  c.flush()
  if #queued > 0 then chunked('RPUSH', queue, queued) end
  fifo_evict(failed, queue, now, cap, DAY_MS, 2 * #queued + 1000)
  redis.call('PEXPIRE', failed, DAY_MS)
  redis.call('PEXPIRE', queue, DAY_MS)
  redis.call('HSET', meta, field, to)
  redis.call('PEXPIRE', meta, KEY_TTL_MS)
end
return {stored, counted}
