-- Shared by every counters script (eventgate.counters.lua prepends it).
-- Constants come from eventgate/counters/windows.py, substituted at load time.
local BUCKET_MS = __BUCKET_MS__
local WINDOW = __WINDOW_BUCKETS__
local DAY_MS = __DAY_MS__
local GRACE_MS = __BUCKET_GRACE_MS__
local KEY_TTL_MS = __KEY_TTL_MS__
local SHARDS = __BUCKET_SHARDS__
local MINUTE_MS = 60000
local CHUNK = 1000

local function bucket_expiry(b)
  return (b + 1) * BUCKET_MS + DAY_MS + GRACE_MS
end

-- Runs a variadic command over a long list, CHUNK values at a time (unpack's limit).
local function chunked(cmd, key, values)
  for i = 1, #values, CHUNK do
    redis.call(cmd, key, unpack(values, i, math.min(i + CHUNK - 1, #values)))
  end
end

-- Adds deltas[i] to field fields[i] of hash `key`, two calls per CHUNK fields instead of
-- one HINCRBY each; fields that reach 0 or less are deleted (totals stay small).
local function hincr_many(key, fields, deltas)
  for i = 1, #fields, CHUNK do
    local j = math.min(i + CHUNK - 1, #fields)
    local got = redis.call('HMGET', key, unpack(fields, i, j))
    local set, gone = {}, {}
    for k = i, j do
      local v = (tonumber(got[k - i + 1]) or 0) + deltas[k]
      if v > 0 then
        set[#set + 1] = fields[k]
        set[#set + 1] = v
      else
        gone[#gone + 1] = fields[k]
      end
    end
    if #set > 0 then redis.call('HSET', key, unpack(set)) end
    if #gone > 0 then redis.call('HDEL', key, unpack(gone)) end
  end
end

-- The keys of bucket `b` of a tag: one small hash per type shard (listpack-encoded, so
-- compact; short, so field lookups stay fast).
local function bucket_keys(tag, b)
  local keys = {}
  for s = 0, SHARDS - 1 do keys[s + 1] = tag .. ':c:' .. b .. ':' .. s end
  return keys
end

-- Sums the fields of a list of hashes into `sums` (field -> n), listing new fields.
local function sum_hashes(keys, sums, fields, sign)
  for _, key in ipairs(keys) do
    local kv = redis.call('HGETALL', key)
    for i = 1, #kv, 2 do
      local f = kv[i]
      if sums[f] == nil then
        sums[f] = 0
        fields[#fields + 1] = f
      end
      sums[f] = sums[f] + sign * tonumber(kv[i + 1])
    end
  end
end

local function deltas_of(sums, fields)
  local deltas = {}
  for i, f in ipairs(fields) do deltas[i] = sums[f] end
  return deltas
end

-- (Re)creates a totals hash. Its '#enc' value is longer than hash-max-listpack-value,
-- which keeps the hash in hashtable encoding: O(1) field access whatever its size.
local function new_totals(tot, wm, now, cur)
  redis.call('DEL', tot)
  redis.call('HSET', tot, '#wm', wm, '#hi', wm, '#enc', string.rep('-', 80))
  redis.call('PEXPIRE', tot, math.max(1, (cur + 1) * BUCKET_MS - now))
end

-- Brings the totals of one tag up to `now`: the buckets that left the window are
-- subtracted (and deleted), or, when the oldest of them may already have expired, the
-- totals are recounted from the buckets still in the window. Returns the lowest and
-- highest bucket a write may use now, and the totals' newest bucket.
local function roll(tag, now)
  local tot = tag .. ':tot'
  local cur = math.floor(now / BUCKET_MS)
  local lo = cur - WINDOW + 1
  local state = redis.call('HMGET', tot, '#wm', '#hi')
  local wm, hi = tonumber(state[1]), tonumber(state[2])
  if wm == nil then
    new_totals(tot, lo - 1, now, cur)
    return lo, cur, lo - 1
  end
  hi = hi or wm
  if wm >= lo - 1 then
    return wm + 1, math.max(cur, wm + 1), hi
  end
  if hi <= lo - 1 then
    -- every bucket the totals hold has left the window: they hold zeros
    for b = wm + 1, hi do redis.call('DEL', unpack(bucket_keys(tag, b))) end
    new_totals(tot, lo - 1, now, cur)
    return lo, cur, lo - 1
  end
  if now >= bucket_expiry(wm + 1) - MINUTE_MS then
    for b = wm + 1, lo - 1 do redis.call('DEL', unpack(bucket_keys(tag, b))) end
    new_totals(tot, lo - 1, now, cur)
    local sums, fields = {}, {}
    for b = lo, hi do sum_hashes(bucket_keys(tag, b), sums, fields, 1) end
    hincr_many(tot, fields, deltas_of(sums, fields))
  else
    for b = wm + 1, lo - 1 do
      local keys = bucket_keys(tag, b)
      local sums, fields = {}, {}
      sum_hashes(keys, sums, fields, -1)
      hincr_many(tot, fields, deltas_of(sums, fields))
      redis.call('DEL', unpack(keys))
    end
  end
  redis.call('HSET', tot, '#wm', lo - 1, '#hi', hi)
  redis.call('PEXPIRE', tot, math.max(1, (hi + WINDOW + 1) * BUCKET_MS - now))
  return lo, cur, hi
end

-- Collects increments per (bucket, shard), buckets clamped to [lo, cur]; `flush`
-- writes them to the bucket hashes and the totals.
local function counter(tag, now)
  local lo, cur, hi = roll(tag, now)
  local inc, order = {}, {}
  local self = {}
  function self.add(b, s, f, n)
    if b < lo then b = lo elseif b > cur then b = cur end
    local key = tag .. ':c:' .. b .. ':' .. s
    local t = inc[key]
    if t == nil then
      t = {}
      inc[key] = t
      order[#order + 1] = {key, b}
    end
    t[f] = (t[f] or 0) + n
  end
  function self.flush()
    if #order == 0 then return end
    local tot = tag .. ':tot'
    local sums, all = {}, {}
    for _, kb in ipairs(order) do
      local key, b = kb[1], kb[2]
      local fields, deltas = {}, {}
      for f, n in pairs(inc[key]) do
        fields[#fields + 1] = f
        deltas[#deltas + 1] = n
        if sums[f] == nil then
          sums[f] = 0
          all[#all + 1] = f
        end
        sums[f] = sums[f] + n
      end
      hincr_many(key, fields, deltas)
      redis.call('PEXPIRE', key, math.max(1, bucket_expiry(b) - now))
      if b > hi then hi = b end
    end
    hincr_many(tot, all, deltas_of(sums, all))
    redis.call('HSET', tot, '#hi', hi)
    redis.call('PEXPIRE', tot, math.max(1, (hi + WINDOW + 1) * BUCKET_MS - now))
  end
  return self
end

-- An id set `set` with its insertion order `queue` ("<ms>:<id>"): drops what is over
-- `cap` (returning the age of the newest id dropped so, or nil) and up to `budget` ids
-- older than `maxage`.
local function fifo_evict(set, queue, now, cap, maxage, budget)
  local n = redis.call('LLEN', queue)
  local age = nil
  if n > cap then
    local gone = redis.call('LPOP', queue, n - cap)
    local ids = {}
    for i, el in ipairs(gone) do
      local sep = string.find(el, ':', 1, true)
      ids[i] = string.sub(el, sep + 1)
    end
    local last = gone[#gone]
    age = now - tonumber(string.sub(last, 1, string.find(last, ':', 1, true) - 1))
    chunked('HDEL', set, ids)
    n = cap
  end
  local limit = now - maxage
  while n > 0 and budget > 0 do
    local head = redis.call('LRANGE', queue, 0, math.min(budget, 100) - 1)
    local ids = {}
    for _, el in ipairs(head) do
      local sep = string.find(el, ':', 1, true)
      if tonumber(string.sub(el, 1, sep - 1)) > limit then break end
      ids[#ids + 1] = string.sub(el, sep + 1)
    end
    if #ids == 0 then break end
    redis.call('LTRIM', queue, #ids, -1)
    chunked('HDEL', set, ids)
    n = n - #ids
    budget = budget - #ids
    if #ids < #head then break end
  end
  return age
end
