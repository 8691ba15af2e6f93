import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  type ChannelProjection,
  type KeyRecordProjection,
  type PriceProjection,
  type ProjectionChange,
  projectionKeys,
  QueueName,
  type UsageRecordedJobData,
} from '@tollgate/contracts';
import { type RunningMockProvider, startMockProvider } from '@tollgate/mock-provider';
import type { TokenPrice } from '@tollgate/pricing';
import { listenAndDescribe, SecretBox } from '@tollgate/server-kit';
import { createTestRedisPrefix, type TestRedisPrefix, waitFor } from '@tollgate/server-testing';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { createHash, randomBytes, randomInt, randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import { createProxyApp } from '../app/create-proxy-app';
import { loadProxyConfig, type ProxyConfig } from '../config/proxy.config';
import { ChannelRegistry } from '../routing/channel-registry';
import type { ChannelTable } from '../routing/channel-table';

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export const UPSTREAM_KEY = 'sk-upstream-test-credential';

export function newKeySecret(): string {
  let s = 'tg-';
  for (let i = 0; i < 40; i++) s += BASE62[randomInt(62)];
  return s;
}

export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export interface TestKey {
  secret: string;
  hash: string;
  record: KeyRecordProjection;
}

/**
 * A real proxy in-process (port 0) with its own Redis prefix and queue prefix, a mock provider,
 * and helpers to write key records and channels the way accounts projects them.
 */
export class ProxyHarness {
  app!: NestFastifyApplication;
  url = '';
  config!: ProxyConfig;
  readonly orgId = `org_${randomBytes(4).toString('hex')}`;
  readonly tenantId = `ten_${randomBytes(4).toString('hex')}`;
  private readonly box: SecretBox;
  private readonly encryptionKey = randomBytes(32).toString('base64');
  readonly queue: Queue<UsageRecordedJobData>;

  private constructor(
    readonly prefix: TestRedisPrefix,
    readonly redis: Redis,
    readonly mock: RunningMockProvider,
  ) {
    this.box = new SecretBox(this.encryptionKey);
    this.queue = new Queue<UsageRecordedJobData>(QueueName.Usage, {
      connection: {
        host: '127.0.0.1',
        port: Number(new URL(prefix.url).port || 6379),
        maxRetriesPerRequest: null,
      },
      prefix: prefix.queuePrefix,
    });
    this.queue.on('error', () => undefined);
  }

  static async create(label: string): Promise<ProxyHarness> {
    const prefix = createTestRedisPrefix(label);
    const redis = new Redis(prefix.url, { maxRetriesPerRequest: 2 });
    const mock = await startMockProvider({
      apiKey: UPSTREAM_KEY,
      models: ['gpt-4o-mini', 'text-embedding-3-small'],
    });
    return new ProxyHarness(prefix, redis, mock);
  }

  /** Starts the proxy; the channels written before are loaded at start. */
  async start(env: Record<string, string> = {}): Promise<void> {
    this.config = loadProxyConfig({
      REDIS_URL: this.prefix.url,
      TOLLGATE_REDIS_PREFIX: this.prefix.prefix,
      TOLLGATE_QUEUE_PREFIX: this.prefix.queuePrefix,
      TOLLGATE_ENCRYPTION_KEY: this.encryptionKey,
      LOG_LEVEL: 'error',
      USAGE_FLUSH_INTERVAL_MS: '5',
      ...env,
    });
    this.app = await createProxyApp(this.config);
    this.url = await listenAndDescribe(this.app, 0, '127.0.0.1');
  }

  async addKey(over: Partial<KeyRecordProjection> = {}): Promise<TestKey> {
    const secret = newKeySecret();
    const record: KeyRecordProjection = {
      id: `key_${randomBytes(4).toString('hex')}`,
      name: 'test key',
      prefix: secret.slice(0, 12),
      organisationId: this.orgId,
      tenantId: this.tenantId,
      tenantName: 'tenant one',
      tenantGroup: 'default',
      models: null,
      expiresAt: null,
      revoked: false,
      allowFallback: true,
      ...over,
    };
    const hash = sha256(secret);
    await this.redis.set(
      projectionKeys.keyRecord(this.prefix.prefix, hash),
      JSON.stringify(record),
    );
    return { secret, hash, record };
  }

  /** Rewrites a key record and publishes the change, as accounts does. */
  async updateKey(key: TestKey, change: Partial<KeyRecordProjection>): Promise<void> {
    key.record = { ...key.record, ...change };
    await this.redis.set(
      projectionKeys.keyRecord(this.prefix.prefix, key.hash),
      JSON.stringify(key.record),
    );
    await this.publish({ kind: 'key', hash: key.hash });
  }

  async addChannel(
    over: Partial<ChannelProjection> & { apiKey?: string } = {},
  ): Promise<ChannelProjection> {
    const { apiKey = UPSTREAM_KEY, ...rest } = over;
    const id = rest.id ?? randomUUID();
    const channel: ChannelProjection = {
      id,
      name: 'mock channel',
      type: 'openai',
      baseUrl: this.mock.baseUrl,
      encryptedApiKey: this.box.seal(apiKey, id),
      models: ['gpt-4o-mini', 'text-embedding-3-small'],
      modelMapping: {},
      priority: 0,
      weight: 1,
      groups: ['default'],
      status: 'enabled',
      organisationId: null,
      ...rest,
    };
    await this.redis.hset(projectionKeys.channels(this.prefix.prefix), id, JSON.stringify(channel));
    return channel;
  }

  /** Writes a model's price into the projection, as billing does (version 1). */
  async projectPrice(model: string, price: TokenPrice): Promise<void> {
    const projection: PriceProjection = {
      model,
      inputNanoUsdPerMTok: price.inputNanoUsdPerMTok.toString(),
      outputNanoUsdPerMTok: price.outputNanoUsdPerMTok.toString(),
      version: 1,
    };
    await this.redis.hset(
      projectionKeys.prices(this.prefix.prefix),
      model,
      JSON.stringify(projection),
    );
  }

  /** Publishes a `channels` change and waits until the proxy's table has `count` channels. */
  async reloadChannels(count: number): Promise<void> {
    await this.publish({ kind: 'channels' });
    await waitFor(() => this.table().channels.length === count, {
      timeoutMs: 3000,
      what: `${count} channels loaded`,
    });
  }

  table(): ChannelTable {
    return this.app.get(ChannelRegistry).table;
  }

  publish(change: ProjectionChange): Promise<number> {
    return this.redis.publish(projectionKeys.changes(this.prefix.prefix), JSON.stringify(change));
  }

  client(secret: string, options: Partial<ConstructorParameters<typeof OpenAI>[0]> = {}): OpenAI {
    return new OpenAI({
      baseURL: `${this.url}/v1`,
      apiKey: secret,
      maxRetries: 0,
      timeout: 10_000,
      ...options,
    });
  }

  /** The usage event of one request, once the proxy has enqueued it. */
  async usage(requestId: string | null | undefined): Promise<UsageRecordedJobData> {
    if (!requestId) throw new Error('no request id');
    const job = await waitFor(async () => (await this.queue.getJob(requestId)) ?? undefined, {
      timeoutMs: 5000,
      what: `usage job ${requestId}`,
    });
    return job.data;
  }

  async jobCount(): Promise<number> {
    return this.queue.count();
  }

  private closing: Promise<void> | null = null;

  /** Closes the proxy once (a test may have closed it already to test shutdown). */
  closeApp(): Promise<void> {
    this.closing ??= this.app ? this.app.close() : Promise.resolve();
    return this.closing;
  }

  async close(): Promise<void> {
    await this.closeApp();
    await this.queue.close();
    await this.mock.stop();
    await this.prefix.clean();
    this.redis.disconnect();
  }
}
