import type { Cluster, Redis, Result } from 'ioredis';
import {
  ADMISSION_SCRIPT_KEYS,
  admissionKeys,
  type AnyAdmissionScope,
  type AnyAdmissionScopeKind,
  assertAdmissionId,
  assertAdmissionModel,
  assertAdmissionPrefix,
  assertAdmissionScope,
  parseLimitsKey,
  reservationKeys,
} from './admission-keys';
import {
  ADMIT_LUA,
  CREDIT_LUA,
  FINISH_LUA,
  FORGET_ORG_LUA,
  REPLACE_BALANCE_LUA,
  REPLACE_SPENT_LUA,
} from './admission.lua';
import {
  ADMISSION_REJECT_REASONS,
  type ActualUsage,
  type AdmissionRejectReason,
  type AdmissionState,
  type AdmitRequest,
  type AdmitResult,
  LIMIT_FIELDS,
  type LimitSettings,
  type RateLimitSnapshot,
  type ReleaseOutcome,
  type ReplaceSpentOutcome,
  type Reservation,
  type SettleOutcome,
  type SpendCounter,
  type SpendWindow,
  type SweepReport,
} from './admission-types';
import { canonicalTimeZone, WindowCalculator } from './windows';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    tollgateAdmissionAdmit(...keysAndArgs: string[]): Result<(string | number)[], Context>;
    tollgateAdmissionFinish(...keysAndArgs: string[]): Result<string[], Context>;
    tollgateAdmissionCredit(key: string, delta: string): Result<string, Context>;
    tollgateAdmissionForgetOrg(key: string, orgId: string, cutoff: string): Result<number, Context>;
    tollgateAdmissionReplaceSpent(
      key: string,
      window: string,
      windowId: string,
      expected: string,
      value: string,
    ): Result<(number | string)[], Context>;
    tollgateAdmissionReplaceBalance(
      key: string,
      expected: string,
      value: string,
    ): Result<number, Context>;
  }
}

export interface AdmissionStoreOptions {
  /** key prefix, e.g. `tg:` (no braces: the hash tag must be `{org:<id>}`) */
  prefix: string;
  /** default reservation lifetime before the sweeper may release it (ms); default 10 minutes */
  reservationTtlMs?: number;
  /** how long a settled or released record is kept to answer `duplicate` (ms); default 2 minutes */
  finishedRecordTtlMs?: number;
  /** how long a swept record is kept so that a late settle still books its cost (ms); default 1 h */
  expiredRecordTtlMs?: number;
  /** an organisation idle this long with nothing outstanding leaves the sweep index (ms); default 10 min */
  sweepIdleMs?: number;
}

/** Largest money amount accepted as input: 10^21 nano-USD (10^12 USD); see admission.lua.ts. */
export const MAX_ADMISSION_NANO = 10n ** 21n;
/** Largest token count accepted as input. */
export const MAX_ADMISSION_TOKENS = 1_000_000_000_000;
/** The most requests one reservation (a lease) admits. */
export const MAX_LEASE_REQUESTS = 10_000;
const MAX_TTL_MS = 7 * 24 * 3_600_000;

export class DuplicateReservationError extends Error {
  constructor(readonly reservationId: string) {
    super(`reservation ${reservationId} already exists`);
    this.name = 'DuplicateReservationError';
  }
}

function assertNano(what: string, v: bigint, allowNegative = false): void {
  if (typeof v !== 'bigint') throw new TypeError(`${what} must be a bigint`);
  if ((!allowNegative && v < 0n) || v > MAX_ADMISSION_NANO || v < -MAX_ADMISSION_NANO) {
    throw new RangeError(`${what} must be ${allowNegative ? '' : 'non-negative and '}at most 1e21`);
  }
}

function assertCount(what: string, v: number, max = MAX_ADMISSION_TOKENS): void {
  if (!Number.isSafeInteger(v) || v < 0 || v > max)
    throw new RangeError(`${what} must be an integer from 0 to ${max}`);
}

/** The fields of a scope's counter hash, in the scripts' order (`F` in admission.lua.ts). */
const COUNTER_FIELDS = [
  'd',
  'ds',
  'dr',
  'pd',
  'pds',
  'pdr',
  'm',
  'ms',
  'mr',
  'pm',
  'pms',
  'pmr',
  'ts',
  'tr',
  'cc',
  'tn',
  'tk',
  'cb',
  'cr',
  'ct',
  'ob',
] as const;

/** Where the reservation record's key sits among a request's script keys (see reservationKeys). */
const RECORD_KEY_INDEX = ADMISSION_SCRIPT_KEYS - 2;

/** Width of a rate bucket (ms) and how many buckets before a request's own still count it. */
const RATE_BUCKET_MS = 1_000;
const RATE_WINDOW_BUCKETS = 60;

/** A spend window as the scripts name it, with its id checked ('' for the total). */
function checkWindow(window: SpendWindow): ['day' | 'month' | 'total', string] {
  switch (window.kind) {
    case 'day':
      if (!/^\d{4}-\d{2}-\d{2}$/.test(window.id)) throw new RangeError('day id must be YYYY-MM-DD');
      return ['day', window.id];
    case 'month':
      if (!/^\d{4}-\d{2}$/.test(window.id)) throw new RangeError('month id must be YYYY-MM');
      return ['month', window.id];
    case 'total':
      return ['total', ''];
  }
}

/** One window's {spent, reserved} out of a counter hash read in COUNTER_FIELDS order (0 when not kept). */
function windowCounter(
  c: readonly (string | null)[],
  kind: 'day' | 'month' | 'total',
  id: string,
): SpendCounter {
  const nano = (v: string | null | undefined) => (v ? BigInt(v) : 0n);
  let at: number;
  if (kind === 'total')
    at = 11; // ts, tr follow
  else {
    const i = kind === 'day' ? 0 : 6;
    if (c[i] === id) at = i;
    else if (c[i + 3] === id) at = i + 3;
    else return { spentNano: 0n, reservedNano: 0n };
  }
  return { spentNano: nano(c[at + 1]), reservedNano: nano(c[at + 2]) };
}

/**
 * Requests and tokens a scope's rate window counts at `now`: the bucket being filled (from the
 * counters) and the older buckets (`r<index>` / `t<index>`) from the 60th before the current one on.
 */
function rateWindowAt(
  counters: readonly (string | null)[],
  buckets: Record<string, string>,
  now: number,
): { requests: number; tokens: number } {
  const first = Math.floor(now / RATE_BUCKET_MS) - RATE_WINDOW_BUCKETS;
  let requests = 0;
  let tokens = 0;
  const current = counters[17] ? Number(counters[17]) : -1;
  if (current >= first) {
    requests += Number(counters[18] ?? 0);
    tokens += Number(counters[19] ?? 0);
  }
  for (const [field, value] of Object.entries(buckets)) {
    if (field[0] !== 'r') continue;
    const index = Number(field.slice(1));
    if (!Number.isInteger(index) || index < first || index === current) continue;
    requests += Number(value);
    tokens += Number(buckets[`t${index}`] ?? 0);
  }
  return { requests, tokens };
}

/** The scope index of the scripts' replies (1-based). */
const SCOPE_KINDS: readonly AnyAdmissionScopeKind[] = [
  'key',
  'tenant',
  'org',
  'key-model',
  'tenant-model',
];

const toNumberOrNull = (v: number): number | null => (v < 0 ? null : v);

function snapshot(raw: (string | number)[], from: number): RateLimitSnapshot {
  const n = (i: number) => Number(raw[from + i]);
  return {
    requests:
      n(0) < 0 ? null : { limit: n(0), remaining: Math.max(0, n(1)), resetMs: Math.max(0, n(2)) },
    tokens:
      n(3) < 0 ? null : { limit: n(3), remaining: Math.max(0, n(4)), resetMs: Math.max(0, n(5)) },
  };
}

function parseSettings(hash: Record<string, string>): LimitSettings {
  const big = (v: string | undefined) => (v === undefined ? null : BigInt(v));
  const num = (v: string | undefined) => (v === undefined ? null : Number(v));
  return {
    dailyBudgetNano: big(hash.dailyBudgetNano),
    monthlyBudgetNano: big(hash.monthlyBudgetNano),
    totalBudgetNano: big(hash.totalBudgetNano),
    rpm: num(hash.rpm),
    tpm: num(hash.tpm),
    maxConcurrent: num(hash.maxConcurrent),
  };
}

/**
 * Budgets, rate limits, concurrency and prepaid balance of key, tenant and organisation, kept in
 * Redis and checked by one atomic script per request (see admission-keys.ts for the layout and
 * admission.lua.ts for the scripts). Stateless apart from a window cache: any number of replicas
 * may share the same Redis.
 *
 * The client must not use ioredis' `keyPrefix` (the prefix is given here). Redis errors propagate:
 * the caller decides between failing closed and open.
 */
export class AdmissionStore {
  readonly prefix: string;
  private readonly reservationTtlMs: number;
  private readonly finishedRecordTtlMs: number;
  private readonly expiredRecordTtlMs: number;
  private readonly sweepIdleMs: number;
  private readonly windows = new WindowCalculator();
  /** org id → the latest expiry this process wrote into the sweep index */
  private readonly indexed = new Map<string, number>();
  /** org, tenant, key and model → the script keys of their requests (the record's a placeholder) */
  private readonly keySets = new Map<string, readonly string[]>();

  constructor(
    private readonly redis: Redis | Cluster,
    options: AdmissionStoreOptions,
  ) {
    assertAdmissionPrefix(options.prefix);
    this.prefix = options.prefix;
    this.reservationTtlMs = options.reservationTtlMs ?? 600_000;
    this.finishedRecordTtlMs = options.finishedRecordTtlMs ?? 120_000;
    this.expiredRecordTtlMs = options.expiredRecordTtlMs ?? 3_600_000;
    this.sweepIdleMs = options.sweepIdleMs ?? 600_000;
    // defineCommand: EVALSHA, and EVAL once on NOSCRIPT (after a restart or failover)
    redis.defineCommand('tollgateAdmissionAdmit', {
      numberOfKeys: ADMISSION_SCRIPT_KEYS,
      lua: ADMIT_LUA,
    });
    redis.defineCommand('tollgateAdmissionFinish', {
      numberOfKeys: ADMISSION_SCRIPT_KEYS,
      lua: FINISH_LUA,
    });
    redis.defineCommand('tollgateAdmissionCredit', { numberOfKeys: 1, lua: CREDIT_LUA });
    redis.defineCommand('tollgateAdmissionForgetOrg', { numberOfKeys: 1, lua: FORGET_ORG_LUA });
    redis.defineCommand('tollgateAdmissionReplaceSpent', {
      numberOfKeys: 1,
      lua: REPLACE_SPENT_LUA,
    });
    redis.defineCommand('tollgateAdmissionReplaceBalance', {
      numberOfKeys: 1,
      lua: REPLACE_BALANCE_LUA,
    });
  }

  /**
   * Checks every limit of key, tenant and organisation, and of the key×model and tenant×model
   * scopes of the request's model where those have limits, and reserves the estimate on all of
   * them, or nothing: one round trip, one script.
   */
  async admit(req: AdmitRequest): Promise<AdmitResult> {
    assertAdmissionId('reservationId', req.reservationId);
    assertAdmissionId('orgId', req.orgId);
    assertAdmissionId('tenantId', req.tenantId);
    assertAdmissionId('keyId', req.keyId);
    const model = req.model ?? null;
    if (model !== null) assertAdmissionModel(model);
    assertCount('estimatedTokens', req.estimatedTokens);
    assertNano('estimatedCostNano', req.estimatedCostNano);
    const ttlMs = req.ttlMs ?? this.reservationTtlMs;
    assertCount('ttlMs', ttlMs, MAX_TTL_MS);
    if (ttlMs < 1) throw new RangeError('ttlMs must be positive');
    const now = req.now ?? Date.now();
    if (!Number.isSafeInteger(now) || now < 0) throw new RangeError('now must be epoch ms');
    const requests = req.requests ?? 1;
    assertCount('requests', requests, MAX_LEASE_REQUESTS);
    if (requests < 1) throw new RangeError('requests must be at least 1');
    // a question, not a reservation: more than any limit can hold is asked as that much
    let headroom = req.headroom;
    if (headroom) {
      const { costNano, tokens, requests: more } = headroom;
      const count = (v: number) => Number.isSafeInteger(v) && v >= 0;
      if (costNano < 0n || !count(tokens) || !count(more))
        throw new RangeError('headroom must be non-negative integers');
      headroom = {
        costNano: costNano > MAX_ADMISSION_NANO ? MAX_ADMISSION_NANO : costNano,
        tokens: Math.min(tokens, MAX_ADMISSION_TOKENS),
        requests: Math.min(more, MAX_ADMISSION_TOKENS),
      };
    }
    const w = this.windows.at(req.timeZone, now);
    const expiresAt = now + ttlMs;
    const keys = this.keysOf(req.orgId, req.tenantId, req.keyId, model, req.reservationId);

    // Sent first on the same connection, so the index names the org before its reservation exists.
    const index = this.noteInIndex(req.orgId, expiresAt, ttlMs);
    const [raw] = await Promise.all([
      this.redis.tollgateAdmissionAdmit(
        ...keys,
        req.reservationId,
        String(now),
        String(w.dayEnd),
        String(w.monthEnd),
        req.estimatedCostNano.toString(),
        String(req.estimatedTokens),
        String(ttlMs),
        req.tenantId,
        req.keyId,
        w.dayId,
        w.monthId,
        model === null ? '0' : '1',
        model ?? '',
        String(requests),
        req.startsWithinSecond === true ? '1' : '0',
        headroom ? headroom.costNano.toString() : '',
        headroom ? String(headroom.tokens) : '',
        headroom ? String(headroom.requests) : '',
      ),
      index,
    ]);

    switch (raw[0]) {
      case 'ok':
        return {
          admitted: true,
          reservation: {
            reservationId: req.reservationId,
            orgId: req.orgId,
            tenantId: req.tenantId,
            keyId: req.keyId,
            model,
            dayId: w.dayId,
            monthId: w.monthId,
            estimatedCostNano: req.estimatedCostNano,
            estimatedTokens: req.estimatedTokens,
            requests,
            expiresAt,
          },
          rateLimits: snapshot(raw, 1),
          windows: w,
          farFromLimits: raw[7] === '1' ? true : raw[7] === '0' ? false : null,
        };
      case 'reject': {
        const scope = SCOPE_KINDS[Number(raw[1]) - 1];
        const reason = String(raw[2]) as AdmissionRejectReason;
        if (!scope || !ADMISSION_REJECT_REASONS.includes(reason))
          throw new Error(`unexpected admission reply ${JSON.stringify(raw)}`);
        return {
          admitted: false,
          scope,
          model: scope === 'key-model' || scope === 'tenant-model' ? model : null,
          reason,
          retryAfterMs: toNumberOrNull(Number(raw[3])),
          rateLimits: snapshot(raw, 4),
        };
      }
      case 'dup':
        throw new DuplicateReservationError(req.reservationId);
      default:
        throw new Error(`unexpected admission reply ${JSON.stringify(raw)}`);
    }
  }

  /**
   * Replaces the reservation by the actual cost and tokens. Idempotent: a second settle (or a
   * settle after release) changes nothing and answers `duplicate`. After the sweeper released an
   * expired reservation, a late settle still books the actual cost, once.
   */
  async settle(reservation: Reservation, actual: ActualUsage): Promise<SettleOutcome> {
    assertNano('actual.costNano', actual.costNano);
    assertCount('actual.tokens', actual.tokens);
    if (actual.requests !== undefined) assertCount('actual.requests', actual.requests);
    const outcome = await this.finish('settle', reservation, actual);
    return outcome as SettleOutcome;
  }

  /**
   * Gives the reservation back (the request failed before any cost). Idempotent like settle.
   * `requestsRan`: of a lease, how many of its requests ran (default: all); the others leave the
   * rpm window, those that ran stay counted.
   */
  async release(reservation: Reservation, requestsRan?: number): Promise<ReleaseOutcome> {
    if (requestsRan !== undefined) assertCount('requestsRan', requestsRan);
    const outcome = await this.finish('release', reservation, {
      costNano: 0n,
      tokens: 0,
      requests: requestsRan,
    });
    return outcome as ReleaseOutcome;
  }

  /**
   * Gives back part of a lease that hands out no more requests while some of its requests still
   * run: the cost, tokens and requests it will not use leave every counter now (never more than
   * it holds); the rest stays reserved until the settle or release. `noop` when the reservation
   * is no longer held.
   */
  async trim(
    reservation: Reservation,
    unused: { costNano: bigint; tokens: number; requests: number },
  ): Promise<'trimmed' | 'noop' | 'duplicate' | 'unknown'> {
    assertNano('unused.costNano', unused.costNano);
    assertCount('unused.tokens', unused.tokens);
    assertCount('unused.requests', unused.requests);
    const outcome = await this.finish('trim', reservation, unused);
    return outcome as 'trimmed' | 'noop' | 'duplicate' | 'unknown';
  }

  /**
   * Releases every reservation whose time to live has passed (a replica crashed before settling).
   * Safe to run on every replica at once.
   */
  async sweep(
    now = Date.now(),
    limits = { organisations: 10_000, perOrganisation: 10_000 },
  ): Promise<SweepReport> {
    const indexKey = admissionKeys.sweepIndex(this.prefix);
    const entries = await this.redis.zrange(indexKey, 0, limits.organisations - 1, 'WITHSCORES');
    const report: SweepReport = { organisations: 0, released: 0, forgotten: 0 };
    const BATCH = 200;
    for (let i = 0; i < entries.length; i += 2) {
      const orgId = entries[i]!;
      const score = Number(entries[i + 1]);
      report.organisations++;
      const expiries = admissionKeys.reservationExpiries(this.prefix, orgId);
      for (let done = 0; done < limits.perOrganisation; done += BATCH) {
        const ids = await this.redis.zrangebyscore(expiries, '-inf', now, 'LIMIT', 0, BATCH);
        if (!ids.length) break;
        for (const id of ids) {
          const record = await this.redis.hgetall(
            admissionKeys.reservation(this.prefix, orgId, id),
          );
          if (!record.st || !record.t || !record.k || !record.d || !record.m) {
            // the record is gone (expired or deleted by hand): nothing left to release
            await this.redis.zrem(expiries, id);
            continue;
          }
          const outcome = await this.finish(
            'expire',
            {
              reservationId: id,
              orgId,
              tenantId: record.t,
              keyId: record.k,
              model: record.mo ? record.mo : null,
              dayId: record.d,
              monthId: record.m,
              estimatedCostNano: 0n,
              estimatedTokens: 0,
              requests: Number(record.q ?? 1),
              expiresAt: Number(record.e),
            },
            { costNano: 0n, tokens: 0 },
          );
          if (outcome === 'expired') report.released++;
          else await this.redis.zrem(expiries, id);
        }
        if (ids.length < BATCH) break;
      }
      if (score < now - this.sweepIdleMs && (await this.redis.zcard(expiries)) === 0) {
        report.forgotten += await this.redis.tollgateAdmissionForgetOrg(
          indexKey,
          orgId,
          String(now - this.sweepIdleMs),
        );
        this.indexed.delete(orgId);
      }
    }
    return report;
  }

  /** Replaces the limits of a scope (null or all-null: unlimited). */
  async writeLimits(scope: AnyAdmissionScope, settings: LimitSettings | null): Promise<void> {
    const key = admissionKeys.limits(this.prefix, this.checkScope(scope));
    const fields: string[] = [];
    if (settings) {
      for (const f of LIMIT_FIELDS) {
        const v = settings[f];
        if (v === null) continue;
        if (typeof v === 'bigint') assertNano(f, v);
        else assertCount(f, v);
        fields.push(f, v.toString());
      }
    }
    const tx = this.redis.multi().del(key);
    if (fields.length) tx.hset(key, ...fields);
    const results = await tx.exec();
    if (!results) throw new Error('redis transaction aborted');
    for (const [err] of results) if (err) throw err;
  }

  async readLimits(scope: AnyAdmissionScope): Promise<LimitSettings> {
    return parseSettings(
      await this.redis.hgetall(admissionKeys.limits(this.prefix, this.checkScope(scope))),
    );
  }

  /** Every scope that has limits in Redis (SCAN; on a cluster, of the node the client talks to). */
  async *scanLimitScopes(): AsyncGenerator<AnyAdmissionScope> {
    const pattern = `${this.prefix.replace(/[*?[\]\\]/g, '\\$&')}adm:*:lim`;
    let cursor = '0';
    for (let round = 0; round < 1_000_000; round++) {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      for (const k of keys) {
        const scope = parseLimitsKey(this.prefix, k);
        if (scope) yield scope;
      }
      cursor = next;
      if (cursor === '0') return;
    }
  }

  /** Settings and live counters of a scope in its windows at `now` (for the management API). */
  async readState(
    scope: AnyAdmissionScope,
    at: { timeZone: string; now?: number },
  ): Promise<AdmissionState> {
    this.checkScope(scope);
    const now = at.now ?? Date.now();
    const w = this.windows.at(at.timeZone, now);
    const p = this.prefix;
    const tx = this.redis
      .pipeline()
      .hgetall(admissionKeys.limits(p, scope))
      .hmget(admissionKeys.counters(p, scope), ...COUNTER_FIELDS)
      .hgetall(admissionKeys.rateBuckets(p, scope))
      .get(admissionKeys.balance(p, scope.orgId));
    const results = await tx.exec();
    if (!results) throw new Error('redis pipeline aborted');
    for (const [err] of results) if (err) throw err;
    const value = <T>(i: number) => results[i]![1] as T;
    const counters = value<(string | null)[]>(1);
    const rate = rateWindowAt(counters, value<Record<string, string>>(2), now);
    const balance = value<string | null>(3);
    return {
      scope,
      settings: parseSettings(value<Record<string, string>>(0)),
      windows: w,
      day: {
        id: w.dayId,
        start: w.dayStart,
        end: w.dayEnd,
        ...windowCounter(counters, 'day', w.dayId),
      },
      month: {
        id: w.monthId,
        start: w.monthStart,
        end: w.monthEnd,
        ...windowCounter(counters, 'month', w.monthId),
      },
      total: windowCounter(counters, 'total', ''),
      requestsLastMinute: rate.requests,
      tokensLastMinute: rate.tokens,
      concurrent: Number(counters[14] ?? 0),
      balanceNano: scope.kind === 'org' && balance !== null ? BigInt(balance) : null,
    };
  }

  /** Puts the organisation on prepaid with this balance, or (null) takes it off prepaid. */
  async setBalance(orgId: string, balanceNano: bigint | null): Promise<void> {
    assertAdmissionId('orgId', orgId);
    const key = admissionKeys.balance(this.prefix, orgId);
    if (balanceNano === null) {
      await this.redis.del(key);
      return;
    }
    assertNano('balanceNano', balanceNano, true);
    await this.redis.set(key, balanceNano.toString());
  }

  /** Adds (or, negative, takes) credit; an organisation not yet on prepaid starts from 0. */
  async creditBalance(orgId: string, deltaNano: bigint): Promise<bigint> {
    assertAdmissionId('orgId', orgId);
    assertNano('deltaNano', deltaNano, true);
    return BigInt(
      await this.redis.tollgateAdmissionCredit(
        admissionKeys.balance(this.prefix, orgId),
        deltaNano.toString(),
      ),
    );
  }

  async readBalance(orgId: string): Promise<bigint | null> {
    assertAdmissionId('orgId', orgId);
    const v = await this.redis.get(admissionKeys.balance(this.prefix, orgId));
    return v === null ? null : BigInt(v);
  }

  /** Records the organisation's billing time zone for readers that know only the org id. */
  async writeTimeZone(orgId: string, timeZone: string): Promise<void> {
    assertAdmissionId('orgId', orgId);
    await this.redis.set(admissionKeys.timeZone(this.prefix, orgId), canonicalTimeZone(timeZone));
  }

  /** The organisation's billing time zone, or `fallback` when none was projected. */
  async readTimeZone(orgId: string, fallback = 'UTC'): Promise<string> {
    assertAdmissionId('orgId', orgId);
    return (await this.redis.get(admissionKeys.timeZone(this.prefix, orgId))) ?? fallback;
  }

  /**
   * Committed spend and outstanding reservations of one window of a scope (zero when that window is
   * not kept: the counters hold the current and the previous day and month).
   */
  async readSpend(scope: AnyAdmissionScope, window: SpendWindow): Promise<SpendCounter> {
    const [kind, id] = checkWindow(window);
    const counters = await this.redis.hmget(
      admissionKeys.counters(this.prefix, this.checkScope(scope)),
      ...COUNTER_FIELDS,
    );
    return windowCounter(counters, kind, id);
  }

  /**
   * Overwrites a window's committed spend (reservations untouched) if it still holds `expected`:
   * reconciliation reads, compares with the ledger, and writes without losing a settle that ran in
   * between (that answers `conflict`; read again). A window older than the two kept ones answers
   * `conflict` too.
   */
  async replaceSpent(
    scope: AnyAdmissionScope,
    window: SpendWindow,
    change: { expectedNano: bigint; valueNano: bigint },
  ): Promise<ReplaceSpentOutcome> {
    assertNano('expectedNano', change.expectedNano);
    assertNano('valueNano', change.valueNano);
    const [kind, id] = checkWindow(window);
    const raw = await this.redis.tollgateAdmissionReplaceSpent(
      admissionKeys.counters(this.prefix, this.checkScope(scope)),
      kind,
      id,
      change.expectedNano.toString(),
      change.valueNano.toString(),
    );
    return Number(raw[0]) === 1 ? 'replaced' : 'conflict';
  }

  /** Sets the prepaid balance if it still holds `expected` (null: absent); reconciliation. */
  async replaceBalance(
    orgId: string,
    expected: bigint | null,
    valueNano: bigint,
  ): Promise<ReplaceSpentOutcome> {
    assertAdmissionId('orgId', orgId);
    assertNano('valueNano', valueNano, true);
    const ok = await this.redis.tollgateAdmissionReplaceBalance(
      admissionKeys.balance(this.prefix, orgId),
      expected === null ? '' : expected.toString(),
      valueNano.toString(),
    );
    return Number(ok) === 1 ? 'replaced' : 'conflict';
  }

  private async finish(
    mode: 'settle' | 'release' | 'expire' | 'trim',
    r: Reservation,
    actual: ActualUsage,
  ): Promise<string> {
    assertAdmissionId('reservationId', r.reservationId);
    assertAdmissionId('orgId', r.orgId);
    assertAdmissionId('tenantId', r.tenantId);
    assertAdmissionId('keyId', r.keyId);
    const model = r.model ?? null;
    if (model !== null) assertAdmissionModel(model);
    const keys = this.keysOf(r.orgId, r.tenantId, r.keyId, model, r.reservationId);
    const raw = await this.redis.tollgateAdmissionFinish(
      ...keys,
      mode,
      r.reservationId,
      actual.costNano.toString(),
      String(actual.tokens),
      String(mode === 'expire' ? this.expiredRecordTtlMs : this.finishedRecordTtlMs),
      r.tenantId,
      r.keyId,
      r.dayId,
      r.monthId,
      model ?? '',
      actual.requests === undefined ? '' : String(actual.requests),
    );
    return String(raw[0]);
  }

  /**
   * The script keys of one request (`reservationKeys`), from a bounded per-process cache of the
   * 17 that depend only on organisation, tenant, key and model: the hot path would otherwise build
   * 18 names (and base64 a model name) for every admit and again for its settle.
   */
  private keysOf(
    orgId: string,
    tenantId: string,
    keyId: string,
    model: string | null,
    reservationId: string,
  ): string[] {
    // ids match a fixed alphabet and models have no control characters: '\n' cannot be part of any
    const id = `${orgId}\n${tenantId}\n${keyId}\n${model ?? ''}`;
    let set = this.keySets.get(id);
    if (set === undefined) {
      set = reservationKeys(this.prefix, { orgId, tenantId, keyId, model, reservationId: '-' });
      if (this.keySets.size >= 10_000) this.keySets.clear();
      this.keySets.set(id, set);
    }
    const keys = set.slice();
    keys[RECORD_KEY_INDEX] = admissionKeys.reservation(this.prefix, orgId, reservationId);
    return keys;
  }

  /**
   * Keeps the sweep index naming every organisation with reservations. Written at most every
   * quarter TTL per organisation and process: the index only has to say "look here".
   */
  private noteInIndex(orgId: string, expiresAt: number, ttlMs: number): Promise<unknown> {
    const last = this.indexed.get(orgId);
    if (last !== undefined && last >= expiresAt - ttlMs / 4) return Promise.resolve();
    if (this.indexed.size >= 10_000) this.indexed.clear();
    this.indexed.set(orgId, expiresAt);
    // A failed index write must not fail the admission: the next admit of the org writes it again.
    return this.redis
      .zadd(admissionKeys.sweepIndex(this.prefix), 'GT', expiresAt, orgId)
      .catch(() => this.indexed.delete(orgId));
  }

  private checkScope<S extends AnyAdmissionScope>(scope: S): S {
    assertAdmissionScope(scope);
    return scope;
  }
}
