import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { type OpenAIErrorBody, UsageOutcome } from '@tollgate/contracts';
import { computeCostNano, type TokenPrice } from '@tollgate/pricing';
import { anthropicErrorFromOpenAI, type TokenUsage } from '@tollgate/providers';
import {
  AdmissionStore,
  type AdmitResult,
  describeRejection,
  DuplicateReservationError,
  isAdmissionModel,
  rateLimitHeaders,
  type Reservation,
} from '@tollgate/server-admission';
import type { ResolvedKey } from '../auth/key-cache';
import { PROXY_CONFIG, type ProxyConfig } from '../config/proxy.config';
import { RedisClients } from '../projections/redis-clients';
import type { Exchange } from '../v1/exchange';
import { ProxyError, ProxyErrorCode } from '../v1/proxy-error';
import { AdmissionLeases, type LeaseTicket } from './admission-leases';
import { PriceBook } from './price-book';
import type { PromptEstimateMode, RequestEstimate } from './request-estimate';
import { actualCostNano, actualTokens, clampNano, clampTokens } from './settlement';

/** Settlement attempts after the first: a settle is idempotent, so retrying is safe. */
const SETTLE_RETRY_DELAYS_MS = [200, 1_000, 5_000];
const LOG_INTERVAL_MS = 10_000;

/** What a caller sees while the admission store cannot be reached and the key fails closed. */
export function admissionUnavailable(): ProxyError {
  return new ProxyError(
    ProxyErrorCode.ServiceUnavailable,
    "The proxy cannot check this API key's budgets and rate limits right now (its limit store is unreachable), so the request was not sent. Please retry shortly.",
    null,
    null,
    0,
    { 'retry-after': '1' },
  );
}

/** The 429 body in the format of the surface called (Anthropic's for `/v1/messages`). */
function rejectionJson(ex: Exchange, status: number, body: OpenAIErrorBody): string {
  switch (ex.errorFormat) {
    case 'openai':
      return JSON.stringify(body);
    case 'anthropic':
      return JSON.stringify(anthropicErrorFromOpenAI(status, body).body);
  }
}

/** A request on its way to the admission script, with what its admission needs. */
interface ScriptAdmission {
  ex: Exchange;
  record: ResolvedKey['record'];
  /** the public model when per-model limits can apply to it, else null */
  model: string | null;
  price: TokenPrice | null;
  costNano: bigint;
  tokens: number;
}

/**
 * A request admitted under a lease: no round trip (the lease's script checked and reserved it), and
 * no object of its own — the exchange settles into the lease.
 */
function admitLeased(
  ex: Exchange,
  lease: LeaseTicket,
  price: TokenPrice | null,
  costNano: bigint,
  now: number,
): true {
  ex.rateLimitHeaders = lease.rateLimitHeaders(now);
  ex.reservedCostNano = costNano;
  ex.admission = lease;
  ex.admissionPrice = price;
  return true;
}

/** Our own mistakes (bad input to the store): a bug to surface as 500, not an outage. */
function isBug(err: unknown): boolean {
  return (
    err instanceof RangeError ||
    err instanceof TypeError ||
    err instanceof DuplicateReservationError
  );
}

/**
 * Admission on the hot path: one atomic Redis script per request checks the budgets, balance and
 * rate limits of key, tenant and organisation (and those of the requested model on the key and the
 * tenant, where set) and reserves the request's estimated maximum cost
 * (`AdmissionStore.admit`); the reservation is settled with the actual cost when the request's
 * usage is recorded, or released when nothing was produced. A sweeper on every replica releases
 * reservations a crashed replica left behind.
 */
@Injectable()
export class AdmissionService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Admission');
  readonly store: AdmissionStore;
  private readonly defaultMaxOutputTokens: number;
  /** how the request pipeline estimates the prompt part of a reservation */
  readonly promptEstimate: PromptEstimateMode;
  private readonly ttlMs: number;
  private readonly sweepIntervalMs: number;
  private sweeper: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> | null = null;
  private readonly zones = new Map<string, string>();
  private lastOutageLog = 0;
  private lastSettleLog = 0;
  /** `ADMISSION_ENABLED`: when false, requests are never checked, reserved or settled */
  readonly enabled: boolean;
  /** admission ahead of demand for keys far from their limits; null when `ADMISSION_LEASE_MS` is 0 */
  readonly leases: AdmissionLeases | null;

  constructor(
    @Inject(PROXY_CONFIG) config: ProxyConfig,
    redis: RedisClients,
    readonly prices: PriceBook,
  ) {
    this.enabled = config.ADMISSION_ENABLED === 'true';
    this.defaultMaxOutputTokens = config.ADMISSION_DEFAULT_MAX_OUTPUT_TOKENS;
    this.promptEstimate = config.ADMISSION_PROMPT_ESTIMATE;
    this.ttlMs = config.ADMISSION_RESERVATION_TTL_MS;
    this.sweepIntervalMs = config.ADMISSION_SWEEP_INTERVAL_MS;
    this.store = new AdmissionStore(redis.commands, {
      prefix: config.TOLLGATE_REDIS_PREFIX,
      reservationTtlMs: config.ADMISSION_RESERVATION_TTL_MS,
    });
    this.leases =
      this.enabled && config.ADMISSION_LEASE_MS > 0
        ? new AdmissionLeases(
            this.store,
            {
              lifeMs: config.ADMISSION_LEASE_MS,
              headroom: config.ADMISSION_LEASE_HEADROOM,
              maxRequests: config.ADMISSION_LEASE_MAX_REQUESTS,
              ttlMs: this.ttlMs,
            },
            (id, run) => this.settleWithRetries(id, run),
            (err) => this.logLeaseFailure(err),
          )
        : null;
  }

  get maxOutputCap(): number {
    return this.defaultMaxOutputTokens;
  }

  /**
   * Admits the request or answers it (429 on a limit, 503 when the store is unreachable and the
   * key fails closed; both metered). On admission the exchange carries the rate-limit headers and
   * the settlement, which `Exchange.record` runs. Returns whether the request may go upstream.
   */
  admit(ex: Exchange, key: ResolvedKey, estimate: RequestEstimate): boolean | Promise<boolean> {
    const r = key.record;
    const price = this.prices.get(ex.model);
    const tokens = clampTokens(estimate.promptTokens + estimate.maxOutputTokens);
    const costNano = price
      ? clampNano(
          computeCostNano(
            { inputTokens: estimate.promptTokens, outputTokens: estimate.maxOutputTokens },
            price,
          ),
        )
      : 0n;
    const model = isAdmissionModel(ex.model) ? ex.model : null;
    const leases = this.leases;
    if (leases !== null) {
      const now = Date.now();
      const lease = leases.take(r.organisationId, r.tenantId, r.id, model, costNano, tokens, now);
      if (lease instanceof Promise)
        return lease.then((l) =>
          l === null
            ? this.admitWithScript({ ex, record: r, model, price, costNano, tokens }, Date.now())
            : admitLeased(ex, l, price, costNano, Date.now()),
        );
      if (lease !== null) return admitLeased(ex, lease, price, costNano, now);
    }
    // the script path only: nothing of it is built for a request admitted under a lease
    return this.admitWithScript({ ex, record: r, model, price, costNano, tokens }, Date.now());
  }

  /** One admission script for this request (no lease had room for it, or leases are off). */
  private async admitWithScript(request: ScriptAdmission, now: number): Promise<boolean> {
    const { ex, record: r, model, price, costNano, tokens } = request;
    const leases = this.leases;
    const timeZone = this.zone(r.billingTimeZone);
    let result: AdmitResult;
    try {
      result = await this.store.admit({
        reservationId: ex.requestId,
        orgId: r.organisationId,
        tenantId: r.tenantId,
        keyId: r.id,
        // the public model asked for: its per-model limits on the key and tenant apply too (a name
        // no per-model limit can be set on — accounts validates them — has none)
        model,
        timeZone,
        estimatedTokens: tokens,
        estimatedCostNano: costNano,
        ttlMs: this.ttlMs,
        now,
        headroom: leases?.headroomFor(r.organisationId, r.tenantId, r.id, model, costNano, tokens),
      });
    } catch (err) {
      if (isBug(err)) throw err;
      this.logOutage(err, r.admissionFailOpen === true);
      if (r.admissionFailOpen === true) return true;
      ex.reject(admissionUnavailable());
      return false;
    }
    const limits = result.rateLimits;
    if (limits.requests !== null || limits.tokens !== null)
      ex.rateLimitHeaders = rateLimitHeaders(limits);
    if (!result.admitted) {
      const rejection = describeRejection(result);
      const extra: Record<string, string> | null =
        rejection.retryAfterSeconds === null
          ? null
          : { 'retry-after': String(rejection.retryAfterSeconds) };
      ex.sendJson(rejection.status, rejectionJson(ex, rejection.status, rejection.body), extra);
      ex.record(
        UsageOutcome.Rejected,
        rejection.status,
        rejection.body.error.code ?? 'rate_limit_exceeded',
        null,
        false,
      );
      return false;
    }
    const reservation = result.reservation;
    ex.reservedCostNano = costNano;
    ex.admission = { settle: (usage, p) => this.finish(reservation, usage, p) };
    ex.admissionPrice = price;
    if (leases && result.farFromLimits !== null)
      leases.admitted(
        {
          orgId: r.organisationId,
          tenantId: r.tenantId,
          keyId: r.id,
          model,
          timeZone,
        },
        costNano,
        tokens,
        result.farFromLimits,
        now,
      );
    return true;
  }

  /** Settles with the actual cost (the same price as the reservation), or releases. */
  private finish(reservation: Reservation, usage: TokenUsage | null, price: TokenPrice | null) {
    const tokens = actualTokens(usage);
    let run: () => Promise<unknown>;
    if (usage === null || tokens === 0) run = () => this.store.release(reservation);
    else {
      const actual = { costNano: actualCostNano(usage, price), tokens };
      run = () => this.store.settle(reservation, actual);
    }
    void this.settleWithRetries(reservation.reservationId, run);
  }

  /** Runs a settle or release, retrying on failure; never rejects. */
  private async settleWithRetries(id: string, run: () => Promise<unknown>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await run();
        return;
      } catch (err) {
        const delay = SETTLE_RETRY_DELAYS_MS[attempt];
        if (delay === undefined || isBug(err)) {
          const now = Date.now();
          if (now - this.lastSettleLog >= LOG_INTERVAL_MS) {
            this.lastSettleLog = now;
            this.logger.warn({
              msg: 'settling an admission reservation failed; the sweeper releases it after its TTL and reconciliation repairs the spend',
              reservationId: id,
              error: err instanceof Error ? err.message : String(err),
            });
          }
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, delay).unref());
      }
    }
  }

  /** The key record's time zone when the runtime knows it, else UTC (accounts validates zones). */
  private zone(tz: string | undefined): string {
    if (!tz) return 'UTC';
    let known = this.zones.get(tz);
    if (known === undefined) {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: tz });
        known = tz;
      } catch {
        this.logger.warn({ msg: 'unknown billing time zone; using UTC', timeZone: tz });
        known = 'UTC';
      }
      if (this.zones.size < 1000) this.zones.set(tz, known);
    }
    return known;
  }

  /** A lease that could not be made or trimmed: requests run the script on their own meanwhile. */
  private logLeaseFailure(err: unknown): void {
    if (isBug(err)) {
      this.logger.error(err);
      return;
    }
    this.warnNowAndThen(
      'an admission lease failed; requests run the admission script on their own',
      err,
    );
  }

  private logOutage(err: unknown, failOpen: boolean): void {
    this.warnNowAndThen(
      `admission store unreachable: ${failOpen ? 'admitting fail-open keys unchecked' : 'refusing with 503'}`,
      err,
    );
  }

  /** One warning per LOG_INTERVAL_MS at most for the store's troubles: an outage would flood the log. */
  private warnNowAndThen(msg: string, err: unknown): void {
    const now = Date.now();
    if (now - this.lastOutageLog < LOG_INTERVAL_MS) return;
    this.lastOutageLog = now;
    this.logger.warn({ msg, error: err instanceof Error ? err.message : String(err) });
  }

  // ---- sweeper ------------------------------------------------------------------------------

  onApplicationBootstrap(): void {
    if (!this.enabled) return;
    this.sweeper = setInterval(() => {
      this.sweeping ??= this.sweepOnce().finally(() => (this.sweeping = null));
    }, this.sweepIntervalMs);
    this.sweeper.unref();
  }

  /** Releases reservations past their TTL (a replica crashed before settling them). */
  async sweepOnce(): Promise<void> {
    try {
      const report = await this.store.sweep();
      if (report.released > 0)
        this.logger.log({ msg: 'released expired admission reservations', ...report });
    } catch (err) {
      this.warnNowAndThen('admission sweep failed', err);
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
    // leases hand out nothing more; those with requests in flight settle when the drain ends them
    await Promise.all([this.sweeping, this.leases?.stop()]);
  }
}
