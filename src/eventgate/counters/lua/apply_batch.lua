-- Apply one ingest batch of one partition (eventgate.counters.store.CounterStore).
-- KEYS: T:m, T:tot, T:dd, T:ddq, T:h, T:ht (T = the partition's hash tag).
-- ARGV[1]: JSON {s: [from, to, now, dedupeCap, historySize, historyBudget, historyFloor,
--                    contiguous],
--                a, d, h, c} (see encode.py; d is flat, 10 values per entry);
-- ARGV[2]: the history records, joined by newlines.
-- Returns {status, storedBefore, dedupeWindowMs, duplicate positions...}; status 0 =
-- applied, 1 = applied before (answers only), 2 = overlaps the stored position (nothing
-- done: re-send the part from storedBefore on), 3 = (contiguous only) starts above the
-- stored position: Redis lost writes; nothing done (re-apply from storedBefore first).
local meta, dd, ddq, hist, htypes = KEYS[1], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local tag = string.sub(meta, 1, -3)
local doc = cjson.decode(ARGV[1])
local R = {}
do
  local blob, at = ARGV[2] or '', 1
  while at <= #blob do
    local nl = string.find(blob, '\n', at, true)
    if nl == nil then nl = #blob + 1 end
    R[#R + 1] = string.sub(blob, at, nl - 1)
    at = nl + 1
  end
end
local s = doc.s
local from, to, now = s[1], s[2], s[3]
local dcap, hsize, hbudget, hfloor, contiguous = s[4], s[5], s[6], s[7], s[8]
local STRIDE = 10
local HOUR_MS = 3600000

local m = redis.call('HMGET', meta, 'pos', 'dw', 'dwt')
local stored = tonumber(m[1]) or -1
local window = DAY_MS
if m[2] and now - tonumber(m[3]) < DAY_MS then window = tonumber(m[2]) end

local dups = {}
local checks = doc.c
for i = 1, #checks, 2 do
  local first = redis.call('HGET', dd, checks[i + 1])
  if first and tonumber(first) < checks[i] then dups[#dups + 1] = checks[i] end
end
if to <= stored then
  local d = doc.d
  for i = 1, #d, STRIDE do
    local first = redis.call('HGET', dd, d[i + 1])
    if first and tonumber(first) < d[i] then dups[#dups + 1] = d[i] end
  end
  local r = {1, stored, window}
  for _, pos in ipairs(dups) do r[#r + 1] = pos end
  return r
end
if from < stored then
  return {2, stored, window}
end
if contiguous == 1 and stored >= 0 and from > stored then
  return {3, stored, window}
end

-- counters: pre-aggregated increments, then the dedupe-dependent entries
local c = counter(tag, now)
local a = doc.a
for i = 1, #a, 4 do c.add(a[i + 1], a[i + 3], a[i], a[i + 2]) end
local d = doc.d
local digests = {}
for i = 1, #d, STRIDE do digests[#digests + 1] = d[i + 1] end
local known = {}
for i = 1, #digests, CHUNK do
  local j = math.min(i + CHUNK - 1, #digests)
  local got = redis.call('HMGET', dd, unpack(digests, i, j))
  for k = i, j do
    local first = got[k - i + 1]
    if first and known[digests[k]] == nil then known[digests[k]] = tonumber(first) end
  end
end
local dup, queued, remember = {}, {}, {}
for i = 1, #d, STRIDE do
  local pos, dg = d[i], d[i + 1]
  local first = known[dg]
  if first and first < pos then
    dup[i] = true
    dups[#dups + 1] = pos
  else
    if not first and d[i + 2] == 1 then
      known[dg] = pos
      remember[#remember + 1] = dg
      remember[#remember + 1] = pos
      queued[#queued + 1] = now .. ':' .. dg
    end
    local b, t, s = d[i + 3], d[i + 4], d[i + 9]
    c.add(b, s, 'v' .. t, 1)
    if d[i + 6] == 1 then c.add(b, s, 'r' .. t, 1) end
    if d[i + 5] > 0 then c.add(b, s, 'l' .. t, d[i + 5]) end
  end
end
c.flush()

-- dedupe store: remember, then evict over the cap and past 24 h
if #remember > 0 then chunked('HSET', dd, remember) end
if #queued > 0 then chunked('RPUSH', ddq, queued) end
local evicted_age = fifo_evict(dd, ddq, now, dcap, DAY_MS, 2 * #remember + 1000)
if evicted_age then
  window = evicted_age
  redis.call('HSET', meta, 'dw', evicted_age, 'dwt', now)
end
redis.call('PEXPIRE', dd, DAY_MS)
redis.call('PEXPIRE', ddq, DAY_MS)

-- history: per type and across types, newest first
local h = doc.h
if #h > 0 then
  local all, per, order = {}, {}, {}
  for i = 1, #h, 2 do
    local t, ref = h[i], h[i + 1]
    local rec
    if ref > 0 then
      rec = R[ref]
    else
      local j = -ref
      if dup[j] then rec = R[d[j + 7]] .. ',"o":"d"}' else rec = R[d[j + 7]] .. R[d[j + 8]] end
    end
    all[#all + 1] = rec
    local l = per[t]
    if l == nil then
      l = {}
      per[t] = l
      order[#order + 1] = t
    end
    l[#l + 1] = rec
  end
  -- a list's TTL is refreshed at most once an hour (its zset score = last refresh), so
  -- it expires 24-25 h after its last push
  local refreshed = {}
  for i = 1, #order, CHUNK do
    local j = math.min(i + CHUNK - 1, #order)
    local scores = redis.call('ZMSCORE', htypes, unpack(order, i, j))
    for k = i, j do
      local score = tonumber(scores[k - i + 1])
      if score == nil or score < now - HOUR_MS then refreshed[#refreshed + 1] = order[k] end
    end
  end
  redis.call('ZREMRANGEBYSCORE', htypes, '-inf', now - KEY_TTL_MS)
  if #refreshed > 0 then
    local zargs = {}
    for _, t in ipairs(refreshed) do
      zargs[#zargs + 1] = now
      zargs[#zargs + 1] = t
    end
    chunked('ZADD', htypes, zargs)
  end
  local ntypes = redis.call('ZCARD', htypes)
  local cap = math.min(hsize, math.max(hfloor, math.floor(hbudget / ntypes)))
  for _, t in ipairs(order) do
    local key = tag .. ':h:' .. t
    local l = per[t]
    local first = math.max(1, #l - cap + 1)
    local len = 0
    for i = first, #l, CHUNK do
      len = redis.call('LPUSH', key, unpack(l, i, math.min(i + CHUNK - 1, #l)))
    end
    if len > cap then redis.call('LTRIM', key, 0, cap - 1) end
  end
  for _, t in ipairs(refreshed) do redis.call('PEXPIRE', tag .. ':h:' .. t, KEY_TTL_MS) end
  -- sweep a few other types' lists down to the current fair share
  local sweep = tonumber(redis.call('HINCRBY', meta, 'sw', 8))
  local others = redis.call('ZRANGE', htypes, sweep - 8, sweep - 1)
  if #others < 8 then redis.call('HSET', meta, 'sw', 0) end
  for _, t in ipairs(others) do redis.call('LTRIM', tag .. ':h:' .. t, 0, cap - 1) end
  local firstall = math.max(1, #all - hsize + 1)
  for i = firstall, #all, CHUNK do
    redis.call('LPUSH', hist, unpack(all, i, math.min(i + CHUNK - 1, #all)))
  end
  redis.call('LTRIM', hist, 0, hsize - 1)
  redis.call('PEXPIRE', hist, KEY_TTL_MS)
  redis.call('PEXPIRE', htypes, KEY_TTL_MS)
end

redis.call('HSET', meta, 'pos', to)
redis.call('PEXPIRE', meta, KEY_TTL_MS)
local r = {0, stored, window}
for _, pos in ipairs(dups) do r[#r + 1] = pos end
return r
