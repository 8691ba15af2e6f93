/**
 * The admission scripts. Each runs atomically in Redis on the keys of one organisation (one
 * Cluster slot). Key order: see `reservationKeys` — per scope (1 key, 2 tenant, 3 org, 4 key×model,
 * 5 tenant×model) 7 keys starting at (s - 1) * 7 + 1: limits, day, month, total, rate log, counted
 * tokens, concurrency; then 36 balance, 37 reservation record, 38 reservation expiry index.
 *
 * Money: nano-USD as decimal strings. A value below 10^15 in magnitude is held as a Lua number (a
 * double holds it, and the sum of two of them, exactly); anything larger as two limbs {high, low}
 * with value = high * 1e9 + low, 0 <= low < 1e9, each limb an integer a double holds exactly, so the
 * arithmetic is exact for |value| < 2^53 * 1e9 ≈ 9.007e24 nano-USD per counter, far beyond what the
 * API accepts. The number path is the common one and costs a fraction of the limb path (the admit
 * script runs on every request). Integers (tokens, instants) are formatted with %.0f: Lua's
 * tostring would switch to exponent notation above 14 digits.
 *
 * Cost: every `redis.call` and every string built costs microseconds of Redis' single thread, on
 * the request path; the scripts read each hash once and write each once, and refresh a time to live
 * only where it can have changed.
 */

const PRELUDE = `
local BASE = 1000000000
local SMALL = 1000000000000000
local MINUTE = 60000
local K = 7

local function big(s)
  if not s then return 0 end
  local n = #s
  if n <= 15 then return tonumber(s) end
  local negative = false
  if string.byte(s, 1) == 45 then
    negative = true
    s = string.sub(s, 2)
    n = n - 1
  end
  local h = tonumber(string.sub(s, 1, n - 9))
  local l = tonumber(string.sub(s, n - 8))
  if negative and (h ~= 0 or l ~= 0) then
    if l == 0 then return {-h, 0} end
    return {-h - 1, BASE - l}
  end
  return {h, l}
end

local function limbs(a)
  if type(a) == 'table' then return a end
  local h = math.floor(a / BASE)
  local l = a - h * BASE
  if l < 0 then
    h = h - 1
    l = l + BASE
  elseif l >= BASE then
    h = h + 1
    l = l - BASE
  end
  return {h, l}
end

local function add(a, b)
  if type(a) == 'number' and type(b) == 'number' then
    local r = a + b
    if r < SMALL and r > -SMALL then return r end
  end
  a = limbs(a)
  b = limbs(b)
  local h = a[1] + b[1]
  local l = a[2] + b[2]
  if l >= BASE then
    l = l - BASE
    h = h + 1
  end
  return {h, l}
end

local function neg(a)
  if type(a) == 'number' then return 0 - a end
  if a[2] == 0 then return {-a[1], 0} end
  return {-a[1] - 1, BASE - a[2]}
end

local function cmp(a, b)
  if type(a) == 'number' and type(b) == 'number' then
    if a < b then return -1 end
    if a > b then return 1 end
    return 0
  end
  a = limbs(a)
  b = limbs(b)
  if a[1] ~= b[1] then
    if a[1] < b[1] then return -1 end
    return 1
  end
  if a[2] ~= b[2] then
    if a[2] < b[2] then return -1 end
    return 1
  end
  return 0
end

local function str(a)
  if type(a) == 'number' then return string.format('%.0f', a) end
  if a[1] < 0 then return '-' .. str(neg(a)) end
  if a[1] == 0 then return string.format('%d', a[2]) end
  return string.format('%.0f%09d', a[1], a[2])
end

local function int(x)
  return string.format('%.0f', x)
end

-- HMGET / HDEL over lists longer than Lua's unpack limit
local function hmget_many(key, fields)
  local out = {}
  for i = 1, #fields, 500 do
    local part = redis.call('HMGET', key, unpack(fields, i, math.min(i + 499, #fields)))
    for j = 1, #part do out[#out + 1] = part[j] end
  end
  return out
end

local function hdel_many(key, fields)
  for i = 1, #fields, 500 do
    redis.call('HDEL', key, unpack(fields, i, math.min(i + 499, #fields)))
  end
end
`;

/**
 * ARGV: 1 reservation id, 2 now (ms), 3 day end (ms), 4 month end (ms), 5 estimated cost (nano),
 * 6 estimated tokens, 7 ttl (ms), 8 window grace (ms), 9 tenant id, 10 key id, 11 day id, 12 month id,
 * 13 model given ('1' | '0'), 14 model name ('' without).
 *
 * The scopes are checked narrowest first: key, key×model, tenant, tenant×model, organisation. A
 * per-model scope takes part only when the request names a model and that scope has limits (its
 * `lim` hash exists): otherwise it is skipped entirely.
 *
 * Rate windows: one log per scope (reservation id → admission time) serves rpm (its size over the
 * last minute) and tpm (the tokens counted per id in the `tpmv` hash, with their total in `#sum`);
 * it is kept while the scope has either limit.
 *
 * Returns {'ok', reqLimit, reqRemaining, reqResetMs, tokLimit, tokRemaining, tokResetMs}
 * or {'reject', scopeIndex, reason, retryAfterMs, reqLimit, …} (-1 = none / never), or {'dup'}.
 * Scope index: 1 key, 2 tenant, 3 organisation, 4 key×model, 5 tenant×model.
 */
export const ADMIT_LUA = `${PRELUDE}
local id = ARGV[1]
local now = tonumber(ARGV[2])
local day_end = tonumber(ARGV[3])
local month_end = tonumber(ARGV[4])
local est = big(ARGV[5])
local tokens = tonumber(ARGV[6])
local expiry = now + tonumber(ARGV[7])
local grace = tonumber(ARGV[8])
local with_model = ARGV[13] == '1'
local cutoff = now - MINUTE

if redis.call('EXISTS', KEYS[37]) == 1 then return {'dup'} end

-- the scopes taking part, in checking order; a per-model scope without limits costs one HMGET
local lim = {}
local scopes = {}
local model_flags = {[4] = '0', [5] = '0'}
for _, s in ipairs({1, 4, 2, 5, 3}) do
  if s <= 3 or with_model then
    local l = redis.call('HMGET', KEYS[(s - 1) * K + 1], 'dailyBudgetNano', 'monthlyBudgetNano',
      'totalBudgetNano', 'rpm', 'tpm', 'maxConcurrent')
    if s <= 3 or l[1] or l[2] or l[3] or l[4] or l[5] or l[6] then
      lim[s] = l
      scopes[#scopes + 1] = s
      if s > 3 then model_flags[s] = '1' end
    end
  end
end

-- rate windows: drop what left them, count what is in them
local rate = {}
for _, s in ipairs(scopes) do
  local b = (s - 1) * K
  local l = lim[s]
  local requests, counted, inflight = 0, 0, 0
  if l[5] then
    counted = tonumber(redis.call('HGET', KEYS[b + 6], '#sum') or '0')
    local gone = redis.call('ZRANGEBYSCORE', KEYS[b + 5], '-inf', cutoff)
    if #gone > 0 then
      local values = hmget_many(KEYS[b + 6], gone)
      for i = 1, #gone do counted = counted - tonumber(values[i] or '0') end
      if counted < 0 then counted = 0 end
      hdel_many(KEYS[b + 6], gone)
      redis.call('ZREMRANGEBYSCORE', KEYS[b + 5], '-inf', cutoff)
      redis.call('HSET', KEYS[b + 6], '#sum', int(counted))
    end
  elseif l[4] then
    redis.call('ZREMRANGEBYSCORE', KEYS[b + 5], '-inf', cutoff)
  end
  if l[4] then requests = redis.call('ZCARD', KEYS[b + 5]) end
  if l[6] then
    redis.call('ZREMRANGEBYSCORE', KEYS[b + 7], '-inf', now)
    inflight = redis.call('ZCARD', KEYS[b + 7])
  end
  rate[s] = {requests, counted, inflight}
end

-- ms until the oldest entry of a rate log leaves the window (0 when it is empty)
local function oldest_reset(s)
  local first = redis.call('ZRANGE', KEYS[(s - 1) * K + 5], 0, 0, 'WITHSCORES')
  if first[2] then
    local ms = tonumber(first[2]) + MINUTE - now
    if ms < 0 then ms = 0 end
    return ms
  end
  return 0
end

-- the x-ratelimit-* view: the scope with the fewest requests / tokens left
local function headers(admitted)
  local extra, extra_tokens = 0, 0
  if admitted then
    extra = 1
    extra_tokens = tokens
  end
  local rl, rr, rs, tl, tr, ts = -1, -1, -1, -1, -1, -1
  local req_scope, tok_scope
  for _, s in ipairs(scopes) do
    local l = lim[s]
    if l[4] then
      local limit = tonumber(l[4])
      local left = limit - rate[s][1] - extra
      if left < 0 then left = 0 end
      if rr < 0 or left < rr then rl, rr, req_scope = limit, left, s end
    end
    if l[5] then
      local limit = tonumber(l[5])
      local left = limit - rate[s][2] - extra_tokens
      if left < 0 then left = 0 end
      if tr < 0 or left < tr then tl, tr, tok_scope = limit, left, s end
    end
  end
  if req_scope then rs = oldest_reset(req_scope) end
  if tok_scope then
    if tok_scope == req_scope then ts = rs else ts = oldest_reset(tok_scope) end
  end
  return rl, rr, rs, tl, tr, ts
end

local function reject(s, reason, retry)
  local rl, rr, rs, tl, tr, ts = headers(false)
  return {'reject', s, reason, retry, rl, rr, rs, tl, tr, ts}
end

-- budgets on every scope
local held = {}
for _, s in ipairs(scopes) do
  local b = (s - 1) * K
  local l = lim[s]
  local d = redis.call('HMGET', KEYS[b + 2], 'spent', 'reserved')
  local m = redis.call('HMGET', KEYS[b + 3], 'spent', 'reserved')
  local t = redis.call('HMGET', KEYS[b + 4], 'spent', 'reserved')
  local h = {big(d[2]), big(m[2]), big(t[2]), not (d[1] or d[2]), not (m[1] or m[2])}
  held[s] = h
  if l[1] and cmp(add(add(big(d[1]), h[1]), est), big(l[1])) > 0 then
    return reject(s, 'budget_daily', day_end - now)
  end
  if l[2] and cmp(add(add(big(m[1]), h[2]), est), big(l[2])) > 0 then
    return reject(s, 'budget_monthly', month_end - now)
  end
  if l[3] and cmp(add(add(big(t[1]), h[3]), est), big(l[3])) > 0 then
    return reject(s, 'budget_total', -1)
  end
end

-- prepaid balance: what is left after every outstanding reservation of the organisation
local balance = redis.call('GET', KEYS[36])
if balance and cmp(add(held[3][3], est), big(balance)) > 0 then
  return reject(3, 'balance', -1)
end

-- rate limits on every scope
for _, s in ipairs(scopes) do
  local b = (s - 1) * K
  local l = lim[s]
  local r = rate[s]
  if l[6] and r[3] + 1 > tonumber(l[6]) then
    return reject(s, 'concurrency', 1000)
  end
  if l[4] and r[1] + 1 > tonumber(l[4]) then
    local first = redis.call('ZRANGE', KEYS[b + 5], 0, 0, 'WITHSCORES')
    local retry = MINUTE
    if first[2] then retry = tonumber(first[2]) + MINUTE - now end
    return reject(s, 'rpm', retry)
  end
  if l[5] then
    local limit = tonumber(l[5])
    if tokens > limit then return reject(s, 'tpm', -1) end
    local need = r[2] + tokens - limit
    if need > 0 then
      -- the oldest entries leave first: when have enough tokens left?
      local retry = MINUTE
      local freed = 0
      local start = 0
      local found = false
      while not found do
        local batch = redis.call('ZRANGE', KEYS[b + 5], start, start + 199, 'WITHSCORES')
        if #batch == 0 then break end
        local ids = {}
        for i = 1, #batch, 2 do ids[#ids + 1] = batch[i] end
        local values = redis.call('HMGET', KEYS[b + 6], unpack(ids))
        for i = 1, #ids do
          freed = freed + tonumber(values[i] or '0')
          if freed >= need then
            retry = tonumber(batch[i * 2]) + MINUTE - now
            found = true
            break
          end
        end
        start = start + 200
      end
      return reject(s, 'tpm', retry)
    end
  end
end

-- all checks passed: reserve on every scope at once (a day or month counter gets its time to live
-- when it is created: its window's end does not move)
for _, s in ipairs(scopes) do
  local b = (s - 1) * K
  local l = lim[s]
  local h = held[s]
  redis.call('HSET', KEYS[b + 2], 'reserved', str(add(h[1], est)))
  if h[4] then redis.call('PEXPIRE', KEYS[b + 2], int(day_end - now + grace)) end
  redis.call('HSET', KEYS[b + 3], 'reserved', str(add(h[2], est)))
  if h[5] then redis.call('PEXPIRE', KEYS[b + 3], int(month_end - now + grace)) end
  redis.call('HSET', KEYS[b + 4], 'reserved', str(add(h[3], est)))
  if l[4] or l[5] then
    redis.call('ZADD', KEYS[b + 5], ARGV[2], id)
    redis.call('PEXPIRE', KEYS[b + 5], 2 * MINUTE)
  end
  if l[5] then
    redis.call('HSET', KEYS[b + 6], id, int(tokens), '#sum', int(rate[s][2] + tokens))
    redis.call('PEXPIRE', KEYS[b + 6], 2 * MINUTE)
  end
  if l[6] then
    redis.call('ZADD', KEYS[b + 7], int(expiry), id)
  end
end
-- mo: the model; mk / mt: whether the key×model / tenant×model scope holds part of the reservation
redis.call('HSET', KEYS[37], 'st', 'r', 't', ARGV[9], 'k', ARGV[10], 'd', ARGV[11], 'm', ARGV[12],
  'c', ARGV[5], 'n', int(tokens), 'e', int(expiry), 'mo', ARGV[14], 'mk', model_flags[4],
  'mt', model_flags[5])
redis.call('ZADD', KEYS[38], int(expiry), id)

local rl, rr, rs, tl, tr, ts = headers(true)
return {'ok', rl, rr, rs, tl, tr, ts}
`;

/**
 * Ends a reservation. ARGV: 1 mode (settle | release | expire), 2 reservation id, 3 actual cost
 * (nano), 4 actual tokens, 5 record ttl after this (ms), 6 tenant id, 7 key id, 8 day id, 9 month id,
 * 10 model ('' without).
 *
 * Record states: r (reserved) → d (done: settled or released) or x (expired: the sweeper released
 * the reservation; a late settle still books the actual cost, once). The per-model scopes take part
 * exactly when they held part of the reservation (record fields mk / mt). A released request stays
 * in the rate log (it still counts as a request) but its tokens leave the tpm window. Returns
 * {outcome}.
 */
export const FINISH_LUA = `${PRELUDE}
local mode = ARGV[1]
local id = ARGV[2]
local rec = redis.call('HMGET', KEYS[37], 'st', 't', 'k', 'd', 'm', 'c', 'mo', 'mk', 'mt')
local st = rec[1]
if not st then return {'unknown'} end
if rec[2] ~= ARGV[6] or rec[3] ~= ARGV[7] or rec[4] ~= ARGV[8] or rec[5] ~= ARGV[9]
  or (rec[7] or '') ~= ARGV[10] then
  return redis.error_reply('ERR reservation ' .. id .. ' does not match the keys given')
end
if st == 'd' then return {'duplicate'} end
if mode == 'expire' and st ~= 'r' then return {'noop'} end

local scopes = {1, 2, 3}
if rec[8] == '1' then scopes[#scopes + 1] = 4 end
if rec[9] == '1' then scopes[#scopes + 1] = 5 end

-- what leaves 'reserved' (the reservation, while held) and joins 'spent' (the actual cost, on settle)
local unreserve = nil
if st == 'r' then unreserve = neg(big(rec[6])) end
local spend = nil
if mode == 'settle' then spend = big(ARGV[3]) end

-- one counter hash: read once, write once; day and month counters only while they exist (spend
-- belongs to the windows the request was admitted in, while they are kept)
local function book(key, only_existing)
  local v = redis.call('HMGET', key, 'spent', 'reserved')
  if only_existing and not (v[1] or v[2]) then return end
  if unreserve and spend then
    local r = add(big(v[2]), unreserve)
    if cmp(r, 0) < 0 then r = 0 end
    redis.call('HSET', key, 'reserved', str(r), 'spent', str(add(big(v[1]), spend)))
  elseif unreserve then
    local r = add(big(v[2]), unreserve)
    if cmp(r, 0) < 0 then r = 0 end
    redis.call('HSET', key, 'reserved', str(r))
  else
    redis.call('HSET', key, 'spent', str(add(big(v[1]), spend)))
  end
end

local tokens = tonumber(ARGV[4])
for _, s in ipairs(scopes) do
  local b = (s - 1) * K
  if unreserve or spend then
    book(KEYS[b + 2], true)
    book(KEYS[b + 3], true)
    book(KEYS[b + 4], false)
  end
  if st == 'r' then redis.call('ZREM', KEYS[b + 7], id) end
  if mode ~= 'expire' then
    local t = redis.call('HMGET', KEYS[b + 6], id, '#sum')
    if t[1] then
      local sum = tonumber(t[2] or '0') - tonumber(t[1])
      if mode == 'settle' then
        sum = sum + tokens
        if sum < 0 then sum = 0 end
        redis.call('HSET', KEYS[b + 6], id, int(tokens), '#sum', int(sum))
      else
        if sum < 0 then sum = 0 end
        redis.call('HDEL', KEYS[b + 6], id)
        redis.call('HSET', KEYS[b + 6], '#sum', int(sum))
      end
    end
  end
end
if st == 'r' then redis.call('ZREM', KEYS[38], id) end

if mode == 'expire' then
  redis.call('HSET', KEYS[37], 'st', 'x')
  redis.call('PEXPIRE', KEYS[37], ARGV[5])
  return {'expired'}
end

if spend then
  local balance = redis.call('GET', KEYS[36])
  if balance then redis.call('SET', KEYS[36], str(add(big(balance), neg(spend)))) end
end

redis.call('HSET', KEYS[37], 'st', 'd')
redis.call('PEXPIRE', KEYS[37], ARGV[5])
if mode == 'settle' then return {'settled'} end
return {'released'}
`;

/** KEYS[1] balance; ARGV[1] signed nano-USD delta. Creates the balance at 0 first. Returns it. */
export const CREDIT_LUA = `${PRELUDE}
local v = add(big(redis.call('GET', KEYS[1])), big(ARGV[1]))
local s = str(v)
redis.call('SET', KEYS[1], s)
return s
`;

/** KEYS[1] sweep index; ARGV[1] org id, ARGV[2] cutoff: removes the org if its score is below. */
export const FORGET_ORG_LUA = `
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) < tonumber(ARGV[2]) then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 1
end
return 0
`;

/**
 * Compare-and-set of a counter's committed spend (reconciliation). KEYS[1] the counter hash;
 * ARGV[1] the spend the caller read (decimal; absent counts as 0), ARGV[2] the new spend,
 * ARGV[3] epoch ms at which a day/month counter expires (0: keep no expiry, for the total).
 * Returns {1} when written, {0, current} when the counter moved meanwhile.
 */
export const REPLACE_SPENT_LUA = `
local cur = redis.call('HGET', KEYS[1], 'spent') or '0'
if cur ~= ARGV[1] then return {0, cur} end
redis.call('HSET', KEYS[1], 'spent', ARGV[2])
if tonumber(ARGV[3]) > 0 then redis.call('PEXPIREAT', KEYS[1], ARGV[3]) end
return {1}
`;

/** Compare-and-set of the prepaid balance. KEYS[1] balance; ARGV[1] expected ('' = absent), ARGV[2] new. */
export const REPLACE_BALANCE_LUA = `
local cur = redis.call('GET', KEYS[1]) or ''
if cur ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
`;
