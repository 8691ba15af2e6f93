import { randomBytes } from 'node:crypto';
import type { TokenPrice } from '@tollgate/pricing';
import type { TokenUsage } from '@tollgate/providers';
import {
  type AdmissionStore,
  formatResetDuration,
  MAX_ADMISSION_NANO,
  MAX_ADMISSION_TOKENS,
  rateLimitHeaderTexts,
  type RateLimitSnapshot,
  type Reservation,
} from '@tollgate/server-admission';
import { actualCostNano, actualTokens, type AdmissionSettlement } from './settlement';

/** How leases are sized and when they are taken (ADMISSION_LEASE_* settings). */
export interface LeaseSettings {
  /** how long a lease hands out requests (ms, 1–1000); 0 turns leases off */
  lifeMs: number;
  /** leases only while every limit of the request leaves room for this many more of them */
  headroom: number;
  /** the most requests one lease admits */
  maxRequests: number;
  /** the reservation's time to live (the sweeper releases it after this) */
  ttlMs: number;
}

/**
 * The lease size the question about headroom assumes for a key and model whose demand this replica
 * has not seen yet: far enough from every limit for `headroom` leases of this many requests (1,024
 * with the defaults) before a replica starts leasing for it at all.
 */
export const FIRST_LEASE_REQUESTS = 128;

/** What a lease is for: one key and model of one organisation and tenant. */
export interface LeaseScope {
  orgId: string;
  tenantId: string;
  keyId: string;
  model: string | null;
  timeZone: string;
}

/**
 * What a request admitted under a lease holds: the lease itself (no object of its own per request).
 * Its usage record settles it into the lease (`settle`), exactly once.
 */
export interface LeaseTicket extends AdmissionSettlement {
  /** the `x-ratelimit-*` headers of the request just admitted, taken at `now`; null when unlimited */
  rateLimitHeaders(now: number): Record<string, string> | null;
}

/**
 * The `x-ratelimit-*` headers of the requests admitted under one lease: the store's answer when the
 * lease was granted (`limits`, which counts the whole lease as used), with what the lease has not
 * handed out yet counted as free again and the resets `elapsedMs` nearer — the same texts as
 * `rateLimitHeaders` of that view, built without the view. The limits' texts are made once, the
 * resets' once per millisecond: a busy lease hands out several requests in one.
 */
export class LeaseRateLimitTexts {
  /** null when that limit is not set */
  private readonly requestLimit: string | null;
  private readonly tokenLimit: string | null;
  private resetsAt = -1;
  private requestReset = '';
  private tokenReset = '';

  constructor(private readonly limits: RateLimitSnapshot) {
    this.requestLimit = limits.requests === null ? null : String(limits.requests.limit);
    this.tokenLimit = limits.tokens === null ? null : String(limits.tokens.limit);
  }

  headers(requestsLeft: number, tokensLeft: number, elapsedMs: number): Record<string, string> {
    const { requests, tokens } = this.limits;
    if (elapsedMs !== this.resetsAt) {
      this.resetsAt = elapsedMs;
      if (requests !== null) this.requestReset = formatResetDuration(requests.resetMs - elapsedMs);
      if (tokens !== null) this.tokenReset = formatResetDuration(tokens.resetMs - elapsedMs);
    }
    return rateLimitHeaderTexts(
      this.requestLimit,
      requests === null ? '' : String(Math.min(requests.limit, requests.remaining + requestsLeft)),
      this.requestReset,
      this.tokenLimit,
      tokens === null ? '' : String(Math.min(tokens.limit, tokens.remaining + tokensLeft)),
      this.tokenReset,
    );
  }
}

class Lease implements LeaseTicket {
  costLeft: bigint;
  tokensLeft: number;
  requestsLeft: number;
  inFlight = 0;
  ran = 0;
  /** what the requests that ended cost and their tokens: the sum of what each settles at alone */
  actualCostNano = 0n;
  actualTokens = 0;
  /** still handing out requests */
  open = true;
  closed = false;
  /** null when the key, tenant and organisation limit neither requests nor tokens */
  private readonly texts: LeaseRateLimitTexts | null;

  constructor(
    private readonly owner: AdmissionLeases,
    readonly reservation: Reservation,
    readonly pool: Pool,
    readonly grantedAt: number,
    /** takes are refused from this instant (end of life, or the day's or month's end) */
    readonly until: number,
    rateLimits: RateLimitSnapshot,
  ) {
    this.costLeft = reservation.estimatedCostNano;
    this.tokensLeft = reservation.estimatedTokens;
    this.requestsLeft = reservation.requests ?? 1;
    this.texts =
      rateLimits.requests !== null || rateLimits.tokens !== null
        ? new LeaseRateLimitTexts(rateLimits)
        : null;
  }

  rateLimitHeaders(now: number): Record<string, string> | null {
    return this.texts === null
      ? null
      : this.texts.headers(this.requestsLeft, this.tokensLeft, now - this.grantedAt);
  }

  /** A request under this lease ended: its usage (null when it produced nothing) joins the settlement. */
  settle(usage: TokenUsage | null, price: TokenPrice | null): void {
    this.inFlight -= 1;
    const tokens = actualTokens(usage);
    if (usage !== null && tokens > 0) {
      this.actualTokens += tokens;
      this.actualCostNano += actualCostNano(usage, price);
    }
    if (!this.open && this.inFlight === 0) this.owner.close(this);
  }
}

/** The leases and the demand of one key and model on this replica. */
class Pool {
  readonly leases: Lease[] = [];
  /** a lease is being asked for */
  pending = false;
  /** the store's last answer on headroom: leases are asked for only while it was yes */
  far = false;
  /** arrivals in the current period and, scaled to one life, in the one before */
  arrivals = 0;
  periodStart: number;
  previousArrivals = 0;
  /** the largest per-request estimate of the current and the previous period: a lease's unit */
  maxCost = 0n;
  maxTokens = 0;
  previousMaxCost = 0n;
  previousMaxTokens = 0;
  /** requests that found every lease used up while the next one was being asked for */
  waiters: (() => void)[] = [];

  constructor(
    readonly scope: LeaseScope,
    now: number,
  ) {
    this.periodStart = now;
  }
}

/**
 * Admission ahead of demand, for keys far from every limit. A lease is one reservation made by the
 * admission script for several requests of one key and model at once — the sum of their estimates
 * reserved on every budget and the balance, every one of them counted against rpm, tpm and
 * concurrency — so those requests are admitted on this replica without a round trip to Redis.
 * Nothing is admitted that the script did not check: a request takes a lease only when its own
 * estimate fits what is left of it. A lease hands out requests for at most `lifeMs` (never past
 * the end of its day or month window); what it did not hand out is then given back at once (trim),
 * and once its last request ended it is settled with the actual cost and tokens of the requests
 * that ran.
 *
 * Leases are asked for only while the script answers that every limit of the request still leaves
 * room for `headroom` more of them, and sized to this replica's recent demand; near any limit each
 * request goes through the script on its own, as without leases. What a lease may cost: a request
 * on another replica can be refused while part of a lease is unused, for at most the lease's life.
 */
export class AdmissionLeases {
  /**
   * key id → model ('' for none) → pool. Two lookups by strings that are already there (the key
   * record's id keeps its hash) cost less per request than one by a key string built each time;
   * a pool answers only requests of its own organisation and tenant (key ids are unique; a
   * collision must not share a lease across organisations).
   */
  private readonly pools = new Map<string, Map<string, Pool>>();
  private poolCount = 0;
  private readonly closing = new Set<Promise<void>>();
  private stopped = false;
  /** lease ids: this instance's random prefix and a sequence number (unique across replicas) */
  private readonly idPrefix = `lease-${randomBytes(9).toString('base64url')}-`;
  private leaseSeq = 0;

  constructor(
    private readonly store: AdmissionStore,
    private readonly settings: LeaseSettings,
    /** runs a settle or release with the service's retries */
    private readonly finish: (reservationId: string, run: () => Promise<unknown>) => Promise<void>,
    private readonly onError: (err: unknown) => void,
    /** epoch ms (tests set the clock) */
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * The headroom to ask the script about for a request of this estimate (per-request admits): room
   * for `headroom` leases of the size this key and model's lease would get, counting this request —
   * the size its demand on this replica gives it, or, before any demand was seen here,
   * `FIRST_LEASE_REQUESTS`. Sizing the question by the demand, as the lease request itself is, lets a
   * busy key take large leases without making every moderately limited key ask for room for
   * `headroom` leases of the largest size.
   */
  headroomFor(
    orgId: string,
    tenantId: string,
    keyId: string,
    model: string | null,
    costNano: bigint,
    tokens: number,
  ): {
    costNano: bigint;
    tokens: number;
    requests: number;
  } {
    const pool = this.pools.get(keyId)?.get(model ?? '');
    const size =
      pool !== undefined && pool.scope.orgId === orgId && pool.scope.tenantId === tenantId
        ? this.leaseSize(Math.max(pool.arrivals + 1, pool.previousArrivals))
        : Math.min(this.settings.maxRequests, FIRST_LEASE_REQUESTS);
    const n = this.settings.headroom * size;
    return { costNano: costNano * BigInt(n), tokens: tokens * n, requests: n };
  }

  /** The requests of a lease for a demand of this many requests a life (half as many again, at least 2). */
  private leaseSize(demand: number): number {
    return Math.min(this.settings.maxRequests, Math.max(2, Math.ceil(demand * 1.5)));
  }

  /**
   * Admits the request under a lease of its key and model when one has room for its estimate
   * (counting it, for sizing leases); null: admit it with the script (`admitted` counts it then).
   * When the leases are used up and the next one is already being asked for, the answer is a
   * promise of that lease: waiting for a round trip under way costs the request less than a round
   * trip of its own, and spares the store a script call (it resolves to null, and the request runs
   * the script, when the new lease is refused or has no room left for it).
   */
  take(
    orgId: string,
    tenantId: string,
    keyId: string,
    model: string | null,
    costNano: bigint,
    tokens: number,
    now: number,
  ): LeaseTicket | Promise<LeaseTicket | null> | null {
    const pool = this.pools.get(keyId)?.get(model ?? '');
    if (pool === undefined || pool.scope.orgId !== orgId || pool.scope.tenantId !== tenantId)
      return null;
    const ticket = this.takeFrom(pool, costNano, tokens, now);
    if (ticket !== null || !pool.pending || !pool.far || this.stopped) return ticket;
    if (pool.waiters.length >= this.settings.maxRequests) return null;
    return new Promise((resolve) =>
      pool.waiters.push(() => resolve(this.takeFrom(pool, costNano, tokens, this.clock()))),
    );
  }

  private takeFrom(pool: Pool, costNano: bigint, tokens: number, now: number): Lease | null {
    for (const lease of pool.leases) {
      if (!lease.open || now >= lease.until) continue;
      if (lease.costLeft < costNano || lease.tokensLeft < tokens || lease.requestsLeft < 1)
        continue;
      lease.costLeft -= costNano;
      lease.tokensLeft -= tokens;
      lease.requestsLeft -= 1;
      lease.inFlight += 1;
      lease.ran += 1;
      this.arrive(pool, costNano, tokens, now);
      if (lease.requestsLeft === 0) this.stopHanding(lease);
      this.refill(pool, lease, now);
      return lease;
    }
    return null;
  }

  /**
   * After a request was admitted by the script with the answer on headroom: starts leasing for its
   * key and model when the answer was yes and the key sees more than one request a life.
   */
  admitted(scope: LeaseScope, costNano: bigint, tokens: number, far: boolean, now: number): void {
    let pool = this.poolOf(scope);
    if (
      pool !== undefined &&
      (pool.scope.orgId !== scope.orgId || pool.scope.tenantId !== scope.tenantId)
    )
      return;
    if (pool === undefined) {
      if (!far || this.stopped) return;
      if (this.poolCount >= 10_000) this.forgetIdle();
      pool = new Pool(scope, now);
      let byModel = this.pools.get(scope.keyId);
      if (byModel === undefined) this.pools.set(scope.keyId, (byModel = new Map()));
      byModel.set(scope.model ?? '', pool);
      this.poolCount += 1;
    }
    this.arrive(pool, costNano, tokens, now);
    pool.far = far;
    if (far && !pool.pending && pool.arrivals + pool.previousArrivals >= 2) this.ask(pool, now);
  }

  /** Stops handing out requests; leases with nothing in flight are settled now, the rest when their last request ends. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const byModel of this.pools.values())
      for (const pool of byModel.values()) {
        for (const lease of [...pool.leases]) this.stopHanding(lease);
        this.wake(pool);
      }
    this.pools.clear();
    this.poolCount = 0;
    await this.settled();
  }

  /** Resolves once every lease closed so far has been settled or released. */
  async settled(): Promise<void> {
    while (this.closing.size > 0) await Promise.all([...this.closing]);
  }

  /** How many leases hand out requests now (tests and metrics). */
  get openLeases(): number {
    let n = 0;
    for (const byModel of this.pools.values())
      for (const pool of byModel.values()) n += pool.leases.length;
    return n;
  }

  private arrive(pool: Pool, costNano: bigint, tokens: number, now: number): void {
    const elapsed = now - pool.periodStart;
    if (elapsed >= this.settings.lifeMs) {
      // the period that ended, scaled to one life (an idle stretch counts as little demand)
      pool.previousArrivals = Math.floor((pool.arrivals * this.settings.lifeMs) / elapsed);
      pool.previousMaxCost = pool.maxCost;
      pool.previousMaxTokens = pool.maxTokens;
      pool.arrivals = 0;
      pool.maxCost = 0n;
      pool.maxTokens = 0;
      pool.periodStart = now;
    }
    pool.arrivals += 1;
    if (costNano > pool.maxCost) pool.maxCost = costNano;
    if (tokens > pool.maxTokens) pool.maxTokens = tokens;
  }

  /**
   * Asks for the next lease when what the pool's leases have left (those with a quarter of their
   * life still ahead) is down to half of the one just taken from.
   */
  private refill(pool: Pool, lease: Lease, now: number): void {
    if (pool.pending || !pool.far || this.stopped) return;
    let left = 0;
    for (const l of pool.leases)
      if ((l.until - now) * 4 > this.settings.lifeMs) left += l.requestsLeft;
    if (left * 2 <= (lease.reservation.requests ?? 1)) this.ask(pool, now);
  }

  private ask(pool: Pool, now: number): void {
    const s = this.settings;
    const requests = this.leaseSize(Math.max(pool.arrivals, pool.previousArrivals));
    const unitCost = pool.maxCost > pool.previousMaxCost ? pool.maxCost : pool.previousMaxCost;
    const unitTokens = Math.max(pool.maxTokens, pool.previousMaxTokens);
    const n = BigInt(requests);
    const room = s.headroom * requests;
    if (unitCost * n > MAX_ADMISSION_NANO || unitTokens * requests > MAX_ADMISSION_TOKENS) {
      // requests this large are not worth reserving ahead
      pool.far = false;
      return;
    }
    pool.pending = true;
    const scope = pool.scope;
    this.store
      .admit({
        reservationId: `${this.idPrefix}${++this.leaseSeq}`,
        orgId: scope.orgId,
        tenantId: scope.tenantId,
        keyId: scope.keyId,
        model: scope.model,
        timeZone: scope.timeZone,
        now,
        estimatedCostNano: unitCost * n,
        estimatedTokens: unitTokens * requests,
        requests,
        startsWithinSecond: true,
        headroom: { costNano: unitCost * BigInt(room), tokens: unitTokens * room, requests: room },
        ttlMs: s.ttlMs,
      })
      .then(
        (result) => {
          pool.pending = false;
          if (!result.admitted) {
            pool.far = false;
            this.wake(pool);
            return;
          }
          pool.far = result.farFromLimits === true;
          const granted = this.clock();
          const until = Math.min(now + s.lifeMs, result.windows.dayEnd, result.windows.monthEnd);
          const lease = new Lease(
            this,
            result.reservation,
            pool,
            granted,
            until,
            result.rateLimits,
          );
          if (this.stopped || granted >= until || this.poolOf(scope) !== pool) {
            lease.open = false;
            this.close(lease);
          } else {
            pool.leases.push(lease);
            setTimeout(() => this.stopHanding(lease), until - granted).unref();
          }
          this.wake(pool);
        },
        (err: unknown) => {
          pool.pending = false;
          pool.far = false;
          this.onError(err);
          this.wake(pool);
        },
      );
  }

  /** The answer to a lease request came: its waiters take from it (or run the script). */
  private wake(pool: Pool): void {
    const waiters = pool.waiters;
    if (waiters.length === 0) return;
    pool.waiters = [];
    for (const w of waiters) w();
  }

  private poolOf(scope: LeaseScope): Pool | undefined {
    return this.pools.get(scope.keyId)?.get(scope.model ?? '');
  }

  private stopHanding(lease: Lease): void {
    if (!lease.open) return;
    lease.open = false;
    const list = lease.pool.leases;
    const i = list.indexOf(lease);
    if (i >= 0) list.splice(i, 1);
    if (lease.inFlight === 0) this.close(lease);
    else if (lease.requestsLeft > 0 || lease.costLeft > 0n || lease.tokensLeft > 0)
      this.trim(lease);
  }

  /**
   * Gives back what a lease will not use while its last requests (streams, perhaps for minutes)
   * still run. One attempt: a trim is not idempotent, and the settlement gives back whatever a
   * failed trim did not.
   */
  private trim(lease: Lease): void {
    const unused = {
      costNano: lease.costLeft,
      tokens: lease.tokensLeft,
      requests: lease.requestsLeft,
    };
    lease.costLeft = 0n;
    lease.tokensLeft = 0;
    lease.requestsLeft = 0;
    const p = this.store
      .trim(lease.reservation, unused)
      .then(
        () => undefined,
        (err: unknown) => this.onError(err),
      )
      .finally(() => this.closing.delete(p));
    this.closing.add(p);
  }

  /** Settles a lease that hands out nothing more and has nothing in flight, once (its last request's settlement calls it too). */
  close(lease: Lease): void {
    if (lease.closed) return;
    lease.closed = true;
    const r = lease.reservation;
    const ran = lease.ran;
    const actual = { costNano: lease.actualCostNano, tokens: lease.actualTokens, requests: ran };
    const run = ran === 0 ? () => this.store.release(r, 0) : () => this.store.settle(r, actual);
    const p = this.finish(r.reservationId, run).finally(() => this.closing.delete(p));
    this.closing.add(p);
  }

  private forgetIdle(): void {
    for (const [keyId, byModel] of this.pools) {
      for (const [model, pool] of byModel)
        if (pool.leases.length === 0 && !pool.pending) {
          byModel.delete(model);
          this.poolCount -= 1;
        }
      if (byModel.size === 0) this.pools.delete(keyId);
    }
  }
}
