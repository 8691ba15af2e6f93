import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { createHash } from 'node:crypto';
import { type ChannelProjection, projectionKeys } from '@tollgate/contracts';
import { SecretBox } from '@tollgate/server-kit';
import { PROXY_CONFIG, type ProxyConfig } from '../config/proxy.config';
import { RedisClients } from '../projections/redis-clients';
import { UpstreamPools } from '../upstream/upstream-pools';
import { ChannelHealth } from './channel-health';
import { ChannelTable, type RoutableChannel } from './channel-table';

/**
 * Optional channel settings accounts is adding to the projection; read defensively, as an older
 * projection has none of them. (`apiVersion` matters only to Azure channels.)
 */
interface ChannelProjectionExtras {
  extraHeaders?: unknown;
  connectTimeoutMs?: unknown;
  firstByteTimeoutMs?: unknown;
  totalTimeoutMs?: unknown;
  apiVersion?: unknown;
}

const positiveInt = (v: unknown, fallback: number): number =>
  typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : fallback;

/** header names the channel may not set: the proxy owns framing and the credential */
const RESERVED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection']);

function headersOf(v: unknown): Record<string, string> | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const out: Record<string, string> = {};
  let any = false;
  for (const [k, value] of Object.entries(v as Record<string, unknown>)) {
    const name = k.toLowerCase();
    if (typeof value !== 'string' || !/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) continue;
    if (RESERVED_HEADERS.has(name) || /[\r\n]/.test(value)) continue;
    out[name] = value;
    any = true;
  }
  return any ? out : null;
}

const isStringArray = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((x) => typeof x === 'string');

/**
 * The channels the proxy routes to, loaded from the Redis projection at start and again on every
 * `channels` / `all` change. A reload builds a whole new table and swaps it in, so a request sees
 * one consistent set.
 */
@Injectable()
export class ChannelRegistry implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ChannelRegistry.name);
  private readonly box: SecretBox;
  private current = new ChannelTable([]);
  private loadedAt = 0;
  private running: Promise<void> | null = null;
  private again = false;

  constructor(
    @Inject(PROXY_CONFIG) private readonly config: ProxyConfig,
    private readonly redis: RedisClients,
    private readonly pools: UpstreamPools,
  ) {
    this.box = new SecretBox(config.TOLLGATE_ENCRYPTION_KEY);
    this.health = new ChannelHealth(config, redis);
  }

  /** the shared health of these channels (breakers, cool-downs, refused credentials) */
  readonly health: ChannelHealth;

  onApplicationBootstrap(): void {
    this.health.start();
  }

  onApplicationShutdown(): void {
    this.health.stop();
  }

  get table(): ChannelTable {
    return this.current;
  }

  /** true once a load succeeded */
  get loaded(): boolean {
    return this.loadedAt > 0;
  }

  /** unix seconds of the last successful load (the `created` of listed models) */
  get loadedAtSeconds(): number {
    return Math.floor(this.loadedAt / 1000);
  }

  /** Reloads; overlapping calls collapse into one more load after the running one. */
  reload(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.loadOnce();
        } while (this.again);
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  private async loadOnce(): Promise<void> {
    const raw = await this.redis.commands.hgetall(
      projectionKeys.channels(this.config.TOLLGATE_REDIS_PREFIX),
    );
    const channels: RoutableChannel[] = [];
    for (const [id, json] of Object.entries(raw)) {
      const c = this.toRoutable(id, json);
      if (c) channels.push(c);
    }
    this.current = new ChannelTable(channels);
    this.loadedAt = Date.now();
    this.pools.retain(new Set(channels.map((c) => c.pool)));
    await this.health.track(channels).catch((err: unknown) => {
      this.logger.warn({ msg: `reading channel health failed: ${String(err)}` });
    });
    this.logger.log({
      msg: 'channels loaded',
      enabled: channels.length,
      stored: Object.keys(raw).length,
    });
  }

  private toRoutable(id: string, json: string): RoutableChannel | null {
    let p: ChannelProjection & ChannelProjectionExtras;
    try {
      p = JSON.parse(json) as ChannelProjection & ChannelProjectionExtras;
    } catch {
      this.logger.warn({ msg: 'unreadable channel projection skipped', channelId: id });
      return null;
    }
    if (p.status !== 'enabled') return null;
    if (!isStringArray(p.models) || !isStringArray(p.groups) || typeof p.baseUrl !== 'string') {
      this.logger.warn({ msg: 'incomplete channel projection skipped', channelId: id });
      return null;
    }
    let url: URL;
    try {
      url = new URL(p.baseUrl);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('protocol');
    } catch {
      this.logger.warn({ msg: 'channel with an unusable base URL skipped', channelId: id });
      return null;
    }
    let apiKey: string;
    try {
      apiKey = this.box.open(p.encryptedApiKey, p.id ?? id);
    } catch {
      this.logger.warn({
        msg: 'channel credential cannot be decrypted (wrong TOLLGATE_ENCRYPTION_KEY?); skipped',
        channelId: id,
      });
      return null;
    }
    const mapping: Record<string, string> = {};
    if (p.modelMapping && typeof p.modelMapping === 'object') {
      for (const [k, v] of Object.entries(p.modelMapping))
        if (typeof v === 'string' && v) mapping[k] = v;
    }
    return {
      id: p.id ?? id,
      name: p.name,
      type: p.type,
      organisationId: p.organisationId ?? null,
      origin: url.origin,
      basePath: url.pathname.replace(/\/+$/, ''),
      authorization: `Bearer ${apiKey}`,
      apiKey,
      apiVersion: typeof p.apiVersion === 'string' && p.apiVersion ? p.apiVersion : null,
      models: new Set(p.models),
      modelMapping: mapping,
      priority: Number.isFinite(p.priority) ? p.priority : 0,
      weight: Number.isFinite(p.weight) && p.weight > 0 ? p.weight : 0,
      groups: new Set(p.groups),
      pool: this.pools.get(
        url.origin,
        positiveInt(p.connectTimeoutMs, this.config.UPSTREAM_CONNECT_TIMEOUT_MS),
      ),
      firstByteTimeoutMs: positiveInt(
        p.firstByteTimeoutMs,
        this.config.UPSTREAM_FIRST_BYTE_TIMEOUT_MS,
      ),
      totalTimeoutMs: positiveInt(p.totalTimeoutMs, this.config.UPSTREAM_TOTAL_TIMEOUT_MS),
      extraHeaders: headersOf(p.extraHeaders),
      credentialFingerprint: createHash('sha256')
        .update(p.encryptedApiKey)
        .digest('base64url')
        .slice(0, 16),
    };
  }
}
