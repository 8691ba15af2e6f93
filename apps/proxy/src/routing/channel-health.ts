import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { type ChannelHealthEvent, channelHealthKeys } from '@tollgate/contracts';
import type Redis from 'ioredis';
import type { ProxyConfig } from '../config/proxy.config';
import type { RedisClients } from '../projections/redis-clients';
import { breakerScripts } from './breaker-scripts';
import type { RoutableChannel } from './channel-table';

/** What selection may do with a channel right now. */
export enum ChannelState {
  Ok = 0,
  /** circuit open and its cool-down over: one probe request may go (if this replica wins it) */
  Probe = 1,
  /** answered 429 with Retry-After: skipped until then */
  Cooling = 2,
  /** circuit open, or half-open with another replica's probe running */
  Open = 3,
  /** the provider rejected the credentials */
  Disabled = 4,
}

/** Read access to channel health for selection (ChannelTable does not depend on Nest or Redis). */
export interface HealthView {
  state(c: RoutableChannel, now: number): ChannelState;
  /** when a Cooling channel may be used again (ms) */
  coolUntil(c: RoutableChannel): number;
  /** when an Open channel may be probed (ms) */
  openUntil(c: RoutableChannel): number;
}

/** Every channel healthy (unit tests, the plain `pick`). */
export const ALL_HEALTHY: HealthView = {
  state: () => ChannelState.Ok,
  coolUntil: () => 0,
  openUntil: () => 0,
};

interface Shared {
  state: 'closed' | 'open' | 'half_open';
  until: number;
  probeUntil: number;
  coolUntil: number;
}

/** the published and persisted notice that a channel's credentials were refused (accounts persists it) */
export type ChannelEvent = ChannelHealthEvent;

/** the hash's life beyond the cool-down: long enough that an idle open circuit is not forgotten soon */
const STATE_TTL_EXTRA_MS = 3_600_000;

export const routingKeys = {
  breaker: (prefix: string, channelId: string) => `${prefix}breaker:{${channelId}}`,
  failures: (prefix: string, channelId: string) => `${prefix}breaker:{${channelId}}:fails`,
  /** hash channel id → JSON {credential, status, at}: channels whose credentials were refused (accounts reads it) */
  rejected: channelHealthKeys.rejected,
  /** pub/sub: breaker and cool-down changes, the whole new state as JSON */
  routingEvents: (prefix: string) => `${prefix}routing-events`,
  /** pub/sub: `ChannelEvent` JSON, read by accounts too */
  channelEvents: channelHealthKeys.channelEvents,
};

function toShared(raw: unknown): Shared | null {
  if (!Array.isArray(raw) || raw.length < 4) return null;
  const state = raw[0] === 'open' || raw[0] === 'half_open' ? raw[0] : 'closed';
  return { state, until: Number(raw[1]), probeUntil: Number(raw[2]), coolUntil: Number(raw[3]) };
}

/**
 * Channel health shared by every replica through Redis: circuit breakers, Retry-After
 * cool-downs, refused credentials. Selection reads only the in-process copy (no Redis round trip
 * on any request); the copy follows the changes published by the scripts, and is re-read whole on
 * every (re)subscription, every channel reload and every `ROUTING_STATE_REFRESH_MS`. Writes happen
 * only when something fails (fire-and-forget, never awaited by a response) and for the one probe.
 * Owned (started and stopped) by ChannelRegistry.
 */
export class ChannelHealth implements HealthView {
  private readonly logger = new Logger(ChannelHealth.name);
  private readonly prefix: string;
  /** only channels not plainly healthy have an entry, so the healthy case is one `size` check */
  private readonly shared = new Map<string, Shared>();
  /** channel id → fingerprint of the refused credential */
  private rejected = new Map<string, string>();
  private channels: readonly RoutableChannel[] = [];
  private readonly replica = randomBytes(4).toString('hex');
  private seq = 0;
  private sub: Redis | null = null;
  private refresher: NodeJS.Timeout | null = null;
  private lastErrorLog = 0;

  constructor(
    private readonly config: ProxyConfig,
    private readonly redis: RedisClients,
  ) {
    this.prefix = config.TOLLGATE_REDIS_PREFIX;
  }

  /** Subscribes to the shared changes and starts the periodic re-read. */
  start(): void {
    const sub = this.redis.createSubscriber(`tollgate-proxy-health:${this.prefix}`);
    this.sub = sub;
    sub.on('ready', () => {
      sub
        .subscribe(routingKeys.routingEvents(this.prefix), routingKeys.channelEvents(this.prefix))
        .then(() => this.refresh())
        .catch((err: unknown) => this.warn('subscribing to routing events failed', err));
    });
    sub.on('message', (channel: string, message: string) => this.onMessage(channel, message));
    this.refresher = setInterval(() => {
      this.refresh().catch((err: unknown) => this.warn('refreshing channel health failed', err));
    }, this.config.ROUTING_STATE_REFRESH_MS);
    this.refresher.unref();
  }

  stop(): void {
    if (this.refresher) clearInterval(this.refresher);
    this.refresher = null;
  }

  // ---- reads (the hot path) -------------------------------------------------------------------

  state(c: RoutableChannel, now: number): ChannelState {
    if (this.rejected.size !== 0 && this.rejected.get(c.id) === c.credentialFingerprint)
      return ChannelState.Disabled;
    if (this.shared.size === 0) return ChannelState.Ok;
    const s = this.shared.get(c.id);
    if (s === undefined) return ChannelState.Ok;
    if (s.state === 'open') return now >= s.until ? ChannelState.Probe : ChannelState.Open;
    if (s.state === 'half_open')
      return now >= s.probeUntil ? ChannelState.Probe : ChannelState.Open;
    return s.coolUntil > now ? ChannelState.Cooling : ChannelState.Ok;
  }

  coolUntil(c: RoutableChannel): number {
    return this.shared.get(c.id)?.coolUntil ?? 0;
  }

  openUntil(c: RoutableChannel): number {
    const s = this.shared.get(c.id);
    if (s === undefined) return 0;
    return s.state === 'half_open' ? s.probeUntil : s.until;
  }

  // ---- writes (failures only) -----------------------------------------------------------------

  private keys(c: RoutableChannel): string[] {
    return [routingKeys.breaker(this.prefix, c.id), routingKeys.failures(this.prefix, c.id)];
  }

  private common(c: RoutableChannel, now: number): (string | number)[] {
    return [
      c.id,
      routingKeys.routingEvents(this.prefix),
      now,
      this.config.BREAKER_COOLDOWN_MS + STATE_TTL_EXTRA_MS,
    ];
  }

  /** A connect error, timeout, 5xx or malformed answer: counts towards opening the circuit. */
  recordFailure(c: RoutableChannel): Promise<void> {
    const now = Date.now();
    return breakerScripts.failure
      .run(this.redis.commands, this.keys(c), [
        ...this.common(c, now),
        this.config.BREAKER_WINDOW_MS,
        this.config.BREAKER_FAILURE_THRESHOLD,
        this.config.BREAKER_COOLDOWN_MS,
        `${now}:${this.replica}:${++this.seq}`,
      ])
      .then(
        (r) => this.apply(c.id, toShared(r)),
        (err: unknown) => this.warn('recording a channel failure failed', err),
      );
  }

  /** A 429 with Retry-After: skipped by every replica until `untilMs`. */
  coolDown(c: RoutableChannel, untilMs: number): Promise<void> {
    const now = Date.now();
    const local = this.shared.get(c.id);
    if (local === undefined)
      this.shared.set(c.id, { state: 'closed', until: 0, probeUntil: 0, coolUntil: untilMs });
    else if (local.coolUntil < untilMs) local.coolUntil = untilMs;
    return breakerScripts.cool
      .run(this.redis.commands, this.keys(c), [...this.common(c, now), untilMs])
      .then(
        (r) => this.apply(c.id, toShared(r)),
        (err: unknown) => this.warn('recording a channel cool-down failed', err),
      );
  }

  /** Tries to become the one probe of a channel whose circuit cool-down is over. */
  async acquireProbe(c: RoutableChannel, leaseMs: number): Promise<boolean> {
    try {
      const r = (await breakerScripts.probe.run(this.redis.commands, this.keys(c), [
        ...this.common(c, Date.now()),
        leaseMs,
      ])) as unknown[];
      this.apply(c.id, toShared(r.slice(1)));
      return r[0] === 1;
    } catch (err) {
      // without Redis nobody can coordinate the probe: let this one through rather than never
      this.warn('acquiring a probe failed', err);
      return true;
    }
  }

  /** The probe succeeded: the circuit closes for every replica. */
  probeSucceeded(c: RoutableChannel): Promise<void> {
    return breakerScripts.close
      .run(this.redis.commands, this.keys(c), this.common(c, Date.now()))
      .then(
        (r) => this.apply(c.id, toShared(r)),
        (err: unknown) => this.warn('closing a circuit failed', err),
      );
  }

  /** The provider refused the credentials: disabled here at once, in every replica, and reported. */
  rejectCredentials(c: RoutableChannel, status: number): Promise<void> {
    this.rejected.set(c.id, c.credentialFingerprint);
    const at = new Date().toISOString();
    const event: ChannelEvent = { channelId: c.id, reason: 'credentials_rejected', status, at };
    return this.redis.commands
      .multi()
      .hset(
        routingKeys.rejected(this.prefix),
        c.id,
        JSON.stringify({ credential: c.credentialFingerprint, status, at }),
      )
      .publish(routingKeys.channelEvents(this.prefix), JSON.stringify(event))
      .exec()
      .then(
        () => undefined,
        (err: unknown) => this.warn('reporting refused credentials failed', err),
      );
  }

  // ---- following the shared state -------------------------------------------------------------

  /** The channel table changed: remember its channels and re-read their health. */
  track(channels: readonly RoutableChannel[]): Promise<void> {
    this.channels = channels;
    return this.refresh();
  }

  /** Re-reads the whole shared state of the known channels in one round trip. */
  async refresh(): Promise<void> {
    const channels = this.channels;
    const p = this.redis.commands.pipeline();
    p.hgetall(routingKeys.rejected(this.prefix));
    for (const c of channels)
      p.hmget(routingKeys.breaker(this.prefix, c.id), 'state', 'until', 'probeUntil', 'coolUntil');
    const results = (await p.exec()) ?? [];
    const [rejErr, rej] = results[0] ?? [null, {}];
    if (rejErr) throw rejErr;
    const rejected = new Map<string, string>();
    for (const [id, json] of Object.entries((rej ?? {}) as Record<string, string>)) {
      try {
        const v = JSON.parse(json) as { credential?: unknown };
        if (typeof v.credential === 'string') rejected.set(id, v.credential);
      } catch {
        // unreadable: ignored
      }
    }
    this.rejected = rejected;
    channels.forEach((c, i) => {
      const [err, raw] = results[i + 1] ?? [null, null];
      if (!err) this.apply(c.id, toShared(raw));
    });
  }

  private apply(id: string, s: Shared | null): void {
    if (s === null) return;
    if (s.state === 'closed' && !(s.coolUntil > Date.now())) this.shared.delete(id);
    else this.shared.set(id, s);
  }

  private onMessage(channel: string, message: string): void {
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(message) as Record<string, unknown>;
    } catch {
      return;
    }
    if (typeof m.channelId !== 'string') return;
    if (channel === routingKeys.routingEvents(this.prefix)) {
      this.apply(m.channelId, toShared([m.state, m.until, m.probeUntil, m.coolUntil]));
      return;
    }
    if (m.reason === 'credentials_rejected') {
      const c = this.channels.find((x) => x.id === m.channelId);
      if (c) this.rejected.set(c.id, c.credentialFingerprint);
    }
  }

  private warn(what: string, err: unknown): void {
    const now = Date.now();
    if (now - this.lastErrorLog < 10_000) return;
    this.lastErrorLog = now;
    this.logger.warn({ msg: `${what}: ${err instanceof Error ? err.message : String(err)}` });
  }
}
