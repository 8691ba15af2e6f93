import { createHash } from 'node:crypto';
import type Redis from 'ioredis';

/**
 * The shared health of one channel lives in one hash, `<prefix>breaker:{<channelId>}` (fields
 * `state`, `until`, `probeUntil`, `coolUntil`), with its recent failures in the sorted set
 * `<prefix>breaker:{<channelId>}:fails`; the hash tag keeps both in one Redis Cluster slot. Every
 * change is made by one of these scripts (atomic across replicas) and published, as the whole new
 * state, on `<prefix>routing-events`, so every replica's local copy follows without a read.
 *
 * Common arguments: KEYS = [hash, fails]; ARGV[1] channel id, ARGV[2] events channel, ARGV[3]
 * now (ms), ARGV[4] the hash's time to live (ms); each script's own arguments follow.
 * Each returns `[state, until, probeUntil, coolUntil]` (the probe script prepends `granted`).
 */
const PRELUDE = `
local now = tonumber(ARGV[3])
local function snap()
  local h = redis.call('HMGET', KEYS[1], 'state', 'until', 'probeUntil', 'coolUntil')
  return {h[1] or 'closed', tonumber(h[2]) or 0, tonumber(h[3]) or 0, tonumber(h[4]) or 0}
end
local function publish(s)
  redis.call('PUBLISH', ARGV[2], cjson.encode({channelId = ARGV[1], state = s[1], ['until'] = s[2], probeUntil = s[3], coolUntil = s[4]}))
end
local function keep(ms)
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < ms then redis.call('PEXPIRE', KEYS[1], ms) end
end
`;

/** ARGV[5] window ms, ARGV[6] threshold, ARGV[7] cool-down ms, ARGV[8] a unique failure id */
const FAILURE = `${PRELUDE}
local s = snap()
if s[1] == 'half_open' then
  -- the probe failed: open again for a whole cool-down
  redis.call('HSET', KEYS[1], 'state', 'open', 'until', now + tonumber(ARGV[7]), 'probeUntil', 0)
  keep(tonumber(ARGV[4]))
  s = snap()
  publish(s)
  return s
end
if s[1] == 'open' then return s end
redis.call('ZADD', KEYS[2], now, ARGV[8])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[5]))
redis.call('PEXPIRE', KEYS[2], ARGV[5])
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[6]) then
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'state', 'open', 'until', now + tonumber(ARGV[7]), 'probeUntil', 0)
  keep(tonumber(ARGV[4]))
  s = snap()
  publish(s)
end
return s
`;

/** ARGV[5] probe lease ms: one replica gets the probe; a prober that dies frees it after the lease */
const PROBE = `${PRELUDE}
local s = snap()
if (s[1] == 'open' and now >= s[2]) or (s[1] == 'half_open' and now >= s[3]) then
  redis.call('HSET', KEYS[1], 'state', 'half_open', 'probeUntil', now + tonumber(ARGV[5]))
  keep(tonumber(ARGV[4]))
  s = snap()
  publish(s)
  return {1, s[1], s[2], s[3], s[4]}
end
return {0, s[1], s[2], s[3], s[4]}
`;

/** the probe succeeded: closed, failures forgotten */
const CLOSE = `${PRELUDE}
local s = snap()
if s[1] == 'half_open' then
  redis.call('HDEL', KEYS[1], 'state', 'until', 'probeUntil')
  redis.call('DEL', KEYS[2])
  s = snap()
  publish(s)
end
return s
`;

/** ARGV[5] cool-down end (ms): a Retry-After, only ever extended */
const COOL = `${PRELUDE}
local s = snap()
local untilMs = tonumber(ARGV[5])
if untilMs > s[4] then
  redis.call('HSET', KEYS[1], 'coolUntil', untilMs)
  keep(math.max(tonumber(ARGV[4]), untilMs - now + 1000))
  s = snap()
  publish(s)
end
return s
`;

class Script {
  private readonly sha: string;
  constructor(private readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** EVALSHA, loading the script on NOSCRIPT (a restarted or failed-over Redis). */
  async run(redis: Redis, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

export const breakerScripts = {
  failure: new Script(FAILURE),
  probe: new Script(PROBE),
  close: new Script(CLOSE),
  cool: new Script(COOL),
};
