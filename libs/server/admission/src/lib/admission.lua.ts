/**
 * The admission scripts. Each runs atomically in Redis on the keys of one organisation (one
 * Cluster slot). Key order: see `reservationKeys` — per scope (1 key, 2 tenant, 3 org, 4 key×model,
 * 5 tenant×model) 3 keys starting at (s - 1) * 3 + 1: limits, counters, rate buckets; then
 * 16 balance, 17 reservation record, 18 reservation expiry index.
 *
 * Counters (one hash per scope, fields in `F` below): the current day window (`d` its id, `ds`
 * spent, `dr` reserved) and the one before it (`pd`, `pds`, `pdr`), the same for months (`m`…,
 * `pm`…), the total (`ts`, `tr`), the requests in flight (`cc`), and the rate window. A new day or
 * month moves the current window to the previous slot, so a late settle still books into the window
 * its request was admitted in, and readers see the previous window until the next rollover.
 *
 * Rate window (kept while the scope has an rpm or a tpm limit): requests and their tokens counted in
 * one-second buckets; a request counts from its admission until the end of the 60th bucket after
 * its own, so between 60 and 61 seconds — never less than a minute. The bucket being filled is
 * kept in the counters (`cb` its index, `cr` requests, `ct` tokens), older ones in the scope's
 * bucket hash (`r<index>`, `t<index>`), written when the next bucket starts; `tn` / `tk` are the
 * sums over the window and `ob` the oldest bucket holding a request (-1: none). So an admit touches
 * the bucket hash only when a bucket starts or leaves the window, about once a second per scope.
 *
 * Money: nano-USD as decimal strings. A value below 2^53 in magnitude is held as a Lua number (a
 * double holds it exactly, and the sum of two of them is exact or at least 2^53, which sends it to
 * the exact path); anything larger as two limbs {high, low} with value = high * 1e9 + low,
 * 0 <= low < 1e9, each limb an integer a double holds exactly, so the arithmetic is exact for
 * |value| < 2^53 * 1e9 ≈ 9.007e24 nano-USD per counter, far beyond what the API accepts. The number
 * path is the common one and costs a fraction of the limb path (the admit script runs on every
 * request). Integers (tokens, instants) are formatted with %.0f: Lua's tostring would switch to
 * exponent notation above 14 digits.
 *
 * Cost: every `redis.call` costs microseconds of Redis' single thread, on the request path; the
 * admit script reads a scope's limits and counters with one `HMGET` each and writes its counters
 * with one `HSET`.
 */

const PRELUDE = `
local BASE = 1000000000
-- 2^53: below it an integer is a Lua number exactly
local SMALL = 9007199254740992
local MINUTE = 60000
local K = 3
-- rate buckets: width (ms), and how many buckets before a request's own still count it
local BUCKET = 1000
local WINDOW = 60
-- a scope's counter hash: 1-3 day (id, spent, reserved), 4-6 previous day, 7-9 month, 10-12
-- previous month, 13-14 total (spent, reserved), 15 requests in flight; rate window: 16-17 requests
-- and tokens in it, 18-20 the bucket being filled (index, requests, tokens), 21 its oldest bucket
-- holding a request
local F = {'d', 'ds', 'dr', 'pd', 'pds', 'pdr', 'm', 'ms', 'mr', 'pm', 'pms', 'pmr', 'ts', 'tr',
  'cc', 'tn', 'tk', 'cb', 'cr', 'ct', 'ob'}

local function push(t, ...)
  local n = #t
  local args = {...}
  for i = 1, #args do t[n + i] = args[i] end
end

-- appends one field and its value (push without the varargs table: the hot paths use this)
local function put(t, field, value)
  local n = #t
  t[n + 1] = field
  t[n + 2] = value
end

-- where window id of kind i (1 day, 7 month) lives in counters c: the index of its id field
-- (i: current slot, i + 3: previous slot), or nil when neither slot holds it
local function slot(c, i, id)
  if c[i] == id then return i end
  if c[i + 3] == id then return i + 3 end
  return nil
end

-- reads the fields names (= F[idx[1]], F[idx[2]], …; literal lists, so that no call builds them) of
-- a counter hash into a table indexed like F (fields not read stay nil): each field read costs, so a
-- script reads what it needs
local function read_counters(key, idx, names)
  local v = redis.call('HMGET', key, unpack(names))
  local c = {}
  for j = 1, #idx do c[idx[j]] = v[j] end
  return c
end

-- the windows' ids and current slots, the total and the requests in flight; the previous slots'
-- amounts are read only when a request of the previous window needs them (see previous_slot)
local COUNTERS = {1, 2, 3, 4, 7, 8, 9, 10, 13, 14, 15}
local COUNTERS_NAMES = {'d', 'ds', 'dr', 'pd', 'm', 'ms', 'mr', 'pm', 'ts', 'tr', 'cc'}
-- the same and the rate window
local COUNTERS_RATE = {1, 2, 3, 4, 7, 8, 9, 10, 13, 14, 15, 16, 17, 18, 19, 20, 21}
local COUNTERS_RATE_NAMES = {'d', 'ds', 'dr', 'pd', 'm', 'ms', 'mr', 'pm', 'ts', 'tr', 'cc', 'tn', 'tk',
  'cb', 'cr', 'ct', 'ob'}

-- reads the previous slot's amounts of kind i (1 day, 7 month) into c when they were not read
local function previous_slot(key, c, i)
  if c[i + 4] == nil then
    local v = redis.call('HMGET', key, F[i + 4], F[i + 5])
    c[i + 4], c[i + 5] = v[1], v[2]
  end
end

local function num(v, default)
  if v then return tonumber(v) end
  return default
end

local function big(s)
  if not s then return 0 end
  local n = #s
  if n <= 15 or (n == 16 and s < '9007199254740992') then return tonumber(s) end
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

-- appends a counter moved by delta, never below zero
local function put_moved(t, field, value, delta)
  local v = num(value, 0) + delta
  if v < 0 then v = 0 end
  put(t, field, int(v))
end
`;

/**
 * ARGV: 1 reservation id, 2 now (ms), 3 day end (ms), 4 month end (ms), 5 estimated cost (nano),
 * 6 estimated tokens, 7 ttl (ms), 8 tenant id, 9 key id, 10 day id, 11 month id, 12 model given
 * ('1' | '0'), 13 model name ('' without), 14 requests the reservation admits (a lease: several,
 * with cost and tokens their sum), 15 '1': count them in the next rate bucket (they may start up to
 * a bucket after now, and must count a full minute from then), 16-18 headroom asked for: cost
 * (nano), tokens, requests ('' each: not asked).
 *
 * Headroom: with it, 'ok' carries a last element '1' when after this reservation every limit that
 * applies still leaves that much (cost on every budget and the balance, requests on rpm and
 * concurrency, tokens on tpm), else '0'.
 *
 * The scopes are checked narrowest first: key, key×model, tenant, tenant×model, organisation. A
 * per-model scope takes part only when the request names a model and that scope has limits (its
 * `lim` hash exists): otherwise it is skipped entirely.
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
local with_model = ARGV[12] == '1'
local nreq = tonumber(ARGV[14])
local kn = math.floor(now / BUCKET)
local first = kn - WINDOW

if redis.call('EXISTS', KEYS[17]) == 1 then return {'dup'} end

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

-- Brings a scope's rate window to bucket kb: the bucket being filled goes to the bucket
-- hash when a newer one starts, buckets that left the window leave the sums (and the hash). What
-- changed is written at once (it is bookkeeping, not part of the decision). Returns the window
-- {requests, tokens, bucket, bucket requests, bucket tokens, oldest}.
local function roll(ckey, rb, c, kb)
  local tn, tk = num(c[16], 0), num(c[17], 0)
  local cb, cr, ct = num(c[18], -1), num(c[19], 0), num(c[20], 0)
  local ob = num(c[21], -1)
  if cb == kb and (ob < 0 or ob >= first) then return {tn, tk, cb, cr, ct, ob} end
  if cb >= 0 and cb < first then
    -- every bucket left the window
    if ob >= 0 and ob < cb then redis.call('DEL', rb) end
    tn, tk, cr, ct, ob = 0, 0, 0, 0, -1
  else
    local filled = cb
    if cb >= 0 and cb < kb and cr > 0 then
      redis.call('HSET', rb, 'r' .. int(cb), int(cr), 't' .. int(cb), int(ct))
    end
    if cb < kb then cr, ct = 0, 0 end
    if ob >= 0 and ob < first then
      -- buckets ob .. first - 1 leave; the oldest left is the first one from there holding a request
      local fields = {}
      for k = ob, filled do
        fields[#fields + 1] = 'r' .. int(k)
        fields[#fields + 1] = 't' .. int(k)
      end
      local v = redis.call('HMGET', rb, unpack(fields))
      local gone = {}
      local oldest = -1
      for i = 1, #fields, 2 do
        if v[i] then
          if ob + (i - 1) / 2 < first then
            tn = tn - tonumber(v[i])
            tk = tk - num(v[i + 1], 0)
            gone[#gone + 1] = fields[i]
            gone[#gone + 1] = fields[i + 1]
          elseif oldest < 0 then
            oldest = ob + (i - 1) / 2
          end
        end
      end
      if #gone > 0 then redis.call('HDEL', rb, unpack(gone)) end
      if tn < 0 then tn = 0 end
      if tk < 0 then tk = 0 end
      if oldest < 0 and cr > 0 then oldest = kb end
      ob = oldest
    end
  end
  cb = kb
  redis.call('HSET', ckey, 'tn', int(tn), 'tk', int(tk), 'cb', int(cb), 'cr', int(cr), 'ct', int(ct),
    'ob', int(ob))
  return {tn, tk, cb, cr, ct, ob}
end

-- counters and rate windows; the request's bucket: the current one, or a newer one a scope is
-- already filling (this clock is behind the one that started it: counting there lets it out later)
local cnt = {}
local rate = {}
local kb = kn
if ARGV[15] == '1' then kb = kn + 1 end
for _, s in ipairs(scopes) do
  local l = lim[s]
  local c
  if l[4] or l[5] then
    c = read_counters(KEYS[(s - 1) * K + 2], COUNTERS_RATE, COUNTERS_RATE_NAMES)
  else
    c = read_counters(KEYS[(s - 1) * K + 2], COUNTERS, COUNTERS_NAMES)
  end
  cnt[s] = c
  if (l[4] or l[5]) and num(c[18], -1) > kb then kb = num(c[18], -1) end
end
for _, s in ipairs(scopes) do
  local b = (s - 1) * K
  local l = lim[s]
  if l[4] or l[5] then rate[s] = roll(KEYS[b + 2], KEYS[b + 3], cnt[s], kb) end
end

-- ms until the oldest request of a window leaves it (0 when it is empty)
local function oldest_reset(w)
  if w[6] < 0 then return 0 end
  local ms = (w[6] + WINDOW + 1) * BUCKET - now
  if ms < 0 then ms = 0 end
  return ms
end

-- the x-ratelimit-* view: the scope with the fewest requests / tokens left (after this request,
-- once it is admitted: the windows count it then)
local function headers()
  local rl, rr, rs, tl, tr, ts = -1, -1, -1, -1, -1, -1
  for _, s in ipairs(scopes) do
    local l = lim[s]
    local w = rate[s]
    if l[4] then
      local limit = tonumber(l[4])
      local left = limit - w[1]
      if left < 0 then left = 0 end
      if rr < 0 or left < rr then rl, rr, rs = limit, left, oldest_reset(w) end
    end
    if l[5] then
      local limit = tonumber(l[5])
      local left = limit - w[2]
      if left < 0 then left = 0 end
      if tr < 0 or left < tr then tl, tr, ts = limit, left, oldest_reset(w) end
    end
  end
  return rl, rr, rs, tl, tr, ts
end

local function reject(s, reason, retry)
  local rl, rr, rs, tl, tr, ts = headers()
  return {'reject', s, reason, retry, rl, rr, rs, tl, tr, ts}
end

-- the slot of the current window (id) in counters c, after moving an older current window to the
-- previous slot (those moves go into out, written only if the request is admitted); nil when the
-- window is older than both slots (a clock far behind): it is neither checked nor booked
local function current_slot(key, c, i, wid, out)
  local j = slot(c, i, wid)
  if j == i + 3 then previous_slot(key, c, i) end
  if j then return j end
  if c[i] and wid < c[i] then return nil end
  if c[i] then
    push(out, F[i + 3], c[i], F[i + 4], c[i + 1] or '0', F[i + 5], c[i + 2] or '0')
    c[i + 3], c[i + 4], c[i + 5] = c[i], c[i + 1] or '0', c[i + 2] or '0'
  end
  push(out, F[i], wid, F[i + 1], '0')
  c[i], c[i + 1], c[i + 2] = wid, '0', '0'
  return i
end

-- budgets on every scope
local held = {}
local writes = {}
for _, s in ipairs(scopes) do
  local l = lim[s]
  local c = cnt[s]
  local out = {}
  local key = KEYS[(s - 1) * K + 2]
  local dj = current_slot(key, c, 1, ARGV[10], out)
  local mj = current_slot(key, c, 7, ARGV[11], out)
  writes[s] = out
  local h = {0, 0, big(c[14]), dj, mj}
  if dj then h[1] = big(c[dj + 2]) end
  if mj then h[2] = big(c[mj + 2]) end
  held[s] = h
  if l[1] and dj and cmp(add(add(big(c[dj + 1]), h[1]), est), big(l[1])) > 0 then
    return reject(s, 'budget_daily', day_end - now)
  end
  if l[2] and mj and cmp(add(add(big(c[mj + 1]), h[2]), est), big(l[2])) > 0 then
    return reject(s, 'budget_monthly', month_end - now)
  end
  if l[3] and cmp(add(add(big(c[13]), h[3]), est), big(l[3])) > 0 then
    return reject(s, 'budget_total', -1)
  end
end

-- prepaid balance: what is left after every outstanding reservation of the organisation
local balance = redis.call('GET', KEYS[16])
if balance and cmp(add(held[3][3], est), big(balance)) > 0 then
  return reject(3, 'balance', -1)
end

-- rate limits on every scope
for _, s in ipairs(scopes) do
  local b = (s - 1) * K
  local l = lim[s]
  local w = rate[s]
  if l[6] and num(cnt[s][15], 0) + nreq > tonumber(l[6]) then
    return reject(s, 'concurrency', 1000)
  end
  if l[4] and w[1] + nreq > tonumber(l[4]) then
    local retry = MINUTE
    if w[6] >= 0 then retry = oldest_reset(w) end
    return reject(s, 'rpm', retry)
  end
  if l[5] then
    local limit = tonumber(l[5])
    if tokens > limit then return reject(s, 'tpm', -1) end
    local need = w[2] + tokens - limit
    if need > 0 then
      -- the oldest buckets leave first: when have enough tokens left?
      local retry = MINUTE
      if w[6] >= 0 then
        local fields = {}
        for k = w[6], w[3] - 1 do fields[#fields + 1] = 't' .. int(k) end
        local v = {}
        if #fields > 0 then v = redis.call('HMGET', KEYS[b + 3], unpack(fields)) end
        v[#fields + 1] = tostring(w[5])
        local freed = 0
        for i = 1, #fields + 1 do
          freed = freed + num(v[i], 0)
          if freed >= need then
            retry = (w[6] + i - 1 + WINDOW + 1) * BUCKET - now
            break
          end
        end
      end
      return reject(s, 'tpm', retry)
    end
  end
end

-- all checks passed; is there headroom for that much more on every limit, after this reservation?
local far = ''
if ARGV[16] ~= '' then
  far = '1'
  local hc = add(est, big(ARGV[16]))
  local ht = tokens + tonumber(ARGV[17])
  local hr = nreq + tonumber(ARGV[18])
  for _, s in ipairs(scopes) do
    local l = lim[s]
    local c = cnt[s]
    local h = held[s]
    local w = rate[s]
    if (l[1] and h[4] and cmp(add(add(big(c[h[4] + 1]), h[1]), hc), big(l[1])) > 0)
      or (l[2] and h[5] and cmp(add(add(big(c[h[5] + 1]), h[2]), hc), big(l[2])) > 0)
      or (l[3] and cmp(add(add(big(c[13]), h[3]), hc), big(l[3])) > 0)
      or (l[6] and num(c[15], 0) + hr > tonumber(l[6]))
      or (l[4] and w[1] + hr > tonumber(l[4]))
      or (l[5] and w[2] + ht > tonumber(l[5])) then
      far = '0'
      break
    end
  end
  if far == '1' and balance and cmp(add(held[3][3], hc), big(balance)) > 0 then far = '0' end
end

-- reserve on every scope at once; lg: the scopes whose rate window counts it
local lg = ''
for _, s in ipairs(scopes) do
  local b = (s - 1) * K
  local c = cnt[s]
  local h = held[s]
  local out = writes[s]
  if h[4] then put(out, F[h[4] + 2], str(add(h[1], est))) end
  if h[5] then put(out, F[h[5] + 2], str(add(h[2], est))) end
  put(out, 'tr', str(add(h[3], est)))
  put(out, 'cc', int(num(c[15], 0) + nreq))
  local w = rate[s]
  if w then
    w[1], w[2], w[4], w[5] = w[1] + nreq, w[2] + tokens, w[4] + nreq, w[5] + tokens
    put(out, 'tn', int(w[1]))
    put(out, 'tk', int(w[2]))
    put(out, 'cr', int(w[4]))
    put(out, 'ct', int(w[5]))
    if w[6] < 0 then
      w[6] = w[3]
      put(out, 'ob', int(w[6]))
    end
    lg = lg .. s
  end
  redis.call('HSET', KEYS[b + 2], unpack(out))
end
-- mo: the model; mk / mt: whether the key×model / tenant×model scope holds part of the reservation;
-- lg: the scopes whose rate window counts the request, in bucket kb; q: the requests it admits
redis.call('HSET', KEYS[17], 'st', 'r', 't', ARGV[8], 'k', ARGV[9], 'd', ARGV[10], 'm', ARGV[11],
  'c', ARGV[5], 'n', int(tokens), 'e', int(expiry), 'mo', ARGV[13], 'mk', model_flags[4],
  'mt', model_flags[5], 'lg', lg, 'kb', int(kb), 'q', ARGV[14])
redis.call('ZADD', KEYS[18], int(expiry), id)

local rl, rr, rs, tl, tr, ts = headers()
return {'ok', rl, rr, rs, tl, tr, ts, far}
`;

/**
 * Ends a reservation. ARGV: 1 mode (settle | release | expire | trim), 2 reservation id, 3 actual
 * cost (nano), 4 actual tokens, 5 record ttl after this (ms), 6 tenant id, 7 key id, 8 day id,
 * 9 month id, 10 model ('' without), 11 how many of the requests it admitted ran ('': all; settle
 * and release only): the others leave the rate windows.
 *
 * trim (a lease that hands out no more requests while some of its requests still run): gives back
 * part of a reservation still held — ARGV 3 the cost, 4 the tokens, 11 the requests it will not
 * use — and keeps the rest for the settle or release to come. Returns {'trimmed'}, or {'noop'}
 * when the reservation is no longer held.
 *
 * Record states: r (reserved) → d (done: settled or released) or x (expired: the sweeper released
 * the reservation; a late settle still books the actual cost, once). The per-model scopes take part
 * exactly when they held part of the reservation (record fields mk / mt). Day and month counters are
 * booked while their window is still kept (current or previous slot). A released request still
 * counts as a request in the rate windows but its tokens leave them; a settled one counts its
 * actual tokens. Returns {outcome}.
 */
export const FINISH_LUA = `${PRELUDE}
local mode = ARGV[1]
local id = ARGV[2]
local rec = redis.call('HMGET', KEYS[17], 'st', 't', 'k', 'd', 'm', 'c', 'mo', 'mk', 'mt', 'n', 'lg',
  'kb', 'q')
local st = rec[1]
if not st then return {'unknown'} end
if rec[2] ~= ARGV[6] or rec[3] ~= ARGV[7] or rec[4] ~= ARGV[8] or rec[5] ~= ARGV[9]
  or (rec[7] or '') ~= ARGV[10] then
  return redis.error_reply('ERR reservation ' .. id .. ' does not match the keys given')
end
if st == 'd' then return {'duplicate'} end
if (mode == 'expire' or mode == 'trim') and st ~= 'r' then return {'noop'} end
local trim = mode == 'trim'

local scopes = {1, 2, 3}
if rec[8] == '1' then scopes[#scopes + 1] = 4 end
if rec[9] == '1' then scopes[#scopes + 1] = 5 end

-- what leaves 'reserved' (the reservation, while held) and joins 'spent' (the actual cost, on settle)
local unreserve = nil
local give = nil
if trim then
  -- never more than is held
  give = big(ARGV[3])
  if cmp(give, big(rec[6])) > 0 then give = big(rec[6]) end
  unreserve = neg(give)
elseif st == 'r' then
  unreserve = neg(big(rec[6]))
end
local spend = nil
if mode == 'settle' then spend = big(ARGV[3]) end

-- one window of counters c (j: index of its id field; nil: not kept any more)
local function book(out, c, j)
  if not j then return end
  if unreserve then
    local r = add(big(c[j + 2]), unreserve)
    if cmp(r, 0) < 0 then r = 0 end
    put(out, F[j + 2], str(r))
  end
  if spend then put(out, F[j + 1], str(add(big(c[j + 1]), spend))) end
end

-- the tokens the request counts for from now on (-1: unchanged)
local counted = -1
if mode == 'settle' then counted = tonumber(ARGV[4]) elseif mode == 'release' then counted = 0 end
local delta = 0
if counted >= 0 then delta = counted - num(rec[10], 0) end
local kb = num(rec[12], -1)
-- the requests it admitted (q), and those of them that leave the rate windows (never ran)
local nreq = num(rec[13], 1)
local rdelta = 0
-- the requests in flight it stops holding
local freed = nreq
if trim then
  freed = math.min(tonumber(ARGV[11]), nreq)
  rdelta = -freed
  delta = -math.min(tonumber(ARGV[4]), num(rec[10], 0))
elseif mode ~= 'expire' and ARGV[11] ~= '' then
  local ran = tonumber(ARGV[11])
  if ran < nreq then rdelta = ran - nreq end
end

for _, s in ipairs(scopes) do
  local b = (s - 1) * K
  local counted_here = (delta ~= 0 or rdelta ~= 0) and rec[11]
    and string.find(rec[11], tostring(s), 1, true)
  local c
  if counted_here then
    c = read_counters(KEYS[b + 2], COUNTERS_RATE, COUNTERS_RATE_NAMES)
  else
    c = read_counters(KEYS[b + 2], COUNTERS, COUNTERS_NAMES)
  end
  local out = {}
  for i, wid in pairs({[1] = rec[4], [7] = rec[5]}) do
    local j = slot(c, i, wid)
    if j == i + 3 then previous_slot(KEYS[b + 2], c, i) end
    book(out, c, j)
  end
  book(out, c, 12)
  if st == 'r' then put_moved(out, 'cc', c[15], -freed) end
  if counted_here then
    -- its bucket: the one being filled, or an older one still in the window (ob .. cb - 1)
    local cb, ob = num(c[18], -1), num(c[21], -1)
    local counts = false
    if kb == cb then
      put_moved(out, 'ct', c[20], delta)
      if rdelta ~= 0 then put_moved(out, 'cr', c[19], rdelta) end
      counts = true
    elseif ob >= 0 and kb >= ob and kb < cb then
      if delta ~= 0 then redis.call('HINCRBY', KEYS[b + 3], 't' .. int(kb), delta) end
      if rdelta ~= 0 then redis.call('HINCRBY', KEYS[b + 3], 'r' .. int(kb), rdelta) end
      counts = true
    end
    if counts then
      put_moved(out, 'tk', c[17], delta)
      if rdelta ~= 0 then put_moved(out, 'tn', c[16], rdelta) end
    end
  end
  if #out > 0 then redis.call('HSET', KEYS[b + 2], unpack(out)) end
end
if trim then
  redis.call('HSET', KEYS[17], 'c', str(add(big(rec[6]), unreserve)), 'n', int(num(rec[10], 0) + delta),
    'q', int(nreq - freed))
  return {'trimmed'}
end
if st == 'r' then redis.call('ZREM', KEYS[18], id) end

if mode == 'expire' then
  redis.call('HSET', KEYS[17], 'st', 'x')
  redis.call('PEXPIRE', KEYS[17], ARGV[5])
  return {'expired'}
end

if spend then
  local balance = redis.call('GET', KEYS[16])
  if balance then redis.call('SET', KEYS[16], str(add(big(balance), neg(spend)))) end
end

redis.call('HSET', KEYS[17], 'st', 'd')
redis.call('PEXPIRE', KEYS[17], ARGV[5])
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
 * Compare-and-set of one window's committed spend in a scope's counters (reconciliation). KEYS[1]
 * the counter hash; ARGV[1] window (day | month | total), ARGV[2] its id ('' for the total),
 * ARGV[3] the spend the caller read (decimal; a window not kept counts as 0), ARGV[4] the new spend.
 * A window newer than the kept ones becomes the current one (the current one the previous). Returns
 * {1} when written, {0, current} when the counter moved meanwhile or the window is older than both
 * kept ones.
 */
export const REPLACE_SPENT_LUA = `${PRELUDE}
if ARGV[1] == 'total' then
  local cur = redis.call('HGET', KEYS[1], 'ts') or '0'
  if cur ~= ARGV[3] then return {0, cur} end
  redis.call('HSET', KEYS[1], 'ts', ARGV[4])
  return {1}
end
local i = 1
if ARGV[1] == 'month' then i = 7 end
local c = redis.call('HMGET', KEYS[1], F[i], F[i + 1], F[i + 2], F[i + 3], F[i + 4], F[i + 5])
local wid = ARGV[2]
local out = {}
local field, cur
if c[1] == wid then
  field, cur = F[i + 1], c[2]
elseif c[4] == wid then
  field, cur = F[i + 4], c[5]
elseif not c[1] or wid > c[1] then
  field, cur = F[i + 1], '0'
  if c[1] then push(out, F[i + 3], c[1], F[i + 4], c[2] or '0', F[i + 5], c[3] or '0') end
  push(out, F[i], wid, F[i + 2], '0')
else
  return {0, '0'}
end
cur = cur or '0'
if cur ~= ARGV[3] then return {0, cur} end
push(out, field, ARGV[4])
redis.call('HSET', KEYS[1], unpack(out))
return {1}
`;

/** Compare-and-set of the prepaid balance. KEYS[1] balance; ARGV[1] expected ('' = absent), ARGV[2] new. */
export const REPLACE_BALANCE_LUA = `
local cur = redis.call('GET', KEYS[1]) or ''
if cur ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
`;
