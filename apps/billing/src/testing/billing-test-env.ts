import type { INestApplication } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import {
  type AccessTokenClaims,
  OrgRole,
  ProxyEndpoint,
  UsageOutcome,
  type UsageRecordedJobData,
} from '@tollgate/contracts';
import {
  ACCESS_TOKEN_AUDIENCE,
  ACCESS_TOKEN_ISSUER,
  listenAndDescribe,
  loadConfig,
} from '@tollgate/server-kit';
import {
  createTestRedisPrefix,
  createTestSchema,
  type TestRedisPrefix,
  type TestSchema,
} from '@tollgate/server-testing';
import { randomBytes, randomUUID } from 'node:crypto';
import { createBillingApp, createBillingWorker } from '../bootstrap';
import { BillingConfig } from '../config/billing.config';
import { createBillingDataSource, runBillingMigrations } from '../database/data-source';
import { UsageLedgerWriter } from '../ledger/usage-ledger.writer';
import { PriceLookupService } from '../prices/price-lookup.service';
import type { DataSource } from 'typeorm';

export const TEST_JWT_SECRET = 'billing-test-secret-0123456789abcdefghijklmnop';

/** One test file's own schema (migrated) and Redis prefixes, and a config pointing at them. */
export interface BillingTestEnv {
  schema: TestSchema;
  redis: TestRedisPrefix;
  config: BillingConfig;
  teardown(): Promise<void>;
}

export async function createBillingTestEnv(
  label: string,
  env: Record<string, string> = {},
): Promise<BillingTestEnv> {
  const schema = await createTestSchema(`billing_${label}`);
  const redis = createTestRedisPrefix(`billing_${label}`);
  const config = loadConfig(BillingConfig, {
    DATABASE_URL: schema.url,
    DB_SCHEMA: schema.schema,
    DB_POOL_SIZE: '5',
    REDIS_URL: redis.url,
    TOLLGATE_REDIS_PREFIX: redis.prefix,
    TOLLGATE_QUEUE_PREFIX: redis.queuePrefix,
    JWT_SECRET: TEST_JWT_SECRET,
    HOST: '127.0.0.1',
    PORT: '0',
    HEALTH_PORT: '0',
    LOG_LEVEL: 'error',
    WORKER_CONCURRENCY: '4',
    ...env,
  });
  const dataSource = createBillingDataSource(config);
  await dataSource.initialize();
  try {
    await runBillingMigrations(dataSource, config.DB_SCHEMA);
  } finally {
    await dataSource.destroy();
  }
  return {
    schema,
    redis,
    config,
    async teardown() {
      await redis.clean();
      await schema.drop();
    },
  };
}

export interface RunningApp {
  app: INestApplication;
  url: string;
}

export async function startApi(config: BillingConfig): Promise<RunningApp> {
  const app = await createBillingApp(config);
  return { app, url: await listenAndDescribe(app, 0, '127.0.0.1') };
}

export async function startWorker(config: BillingConfig): Promise<RunningApp> {
  const app = await createBillingWorker(config);
  return { app, url: await listenAndDescribe(app, 0, '127.0.0.1') };
}

/** Signs an access token exactly as accounts does (HS256, issuer, audience, `typ: access`). */
export function mintToken(
  claims: Partial<AccessTokenClaims> = {},
  options: { secret?: string; issuer?: string; audience?: string; expiresInSeconds?: number } = {},
): string {
  const jwt = new JwtService({ secret: options.secret ?? TEST_JWT_SECRET });
  const payload: AccessTokenClaims = {
    sub: claims.sub ?? randomUUID(),
    email: claims.email ?? 'someone@example.com',
    admin: claims.admin ?? false,
    orgs: claims.orgs ?? {},
    typ: 'access',
  };
  return jwt.sign(payload, {
    algorithm: 'HS256',
    issuer: options.issuer ?? ACCESS_TOKEN_ISSUER,
    audience: options.audience ?? ACCESS_TOKEN_AUDIENCE,
    expiresIn: options.expiresInSeconds ?? 300,
  });
}

export const adminToken = (): string => mintToken({ admin: true });
export const orgToken = (orgId: string, role: OrgRole = OrgRole.Owner): string =>
  mintToken({ orgs: { [orgId]: role } });

export interface HttpResult<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** A small fetch wrapper: JSON in, JSON (or text) out. */
export async function http<T = unknown>(
  baseUrl: string,
  method: string,
  path: string,
  options: {
    token?: string;
    body?: unknown;
    rawBody?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) {
    body = options.rawBody;
    headers['content-type'] ??= 'application/json';
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    body,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  const parsed = /json/.test(type) && text ? (JSON.parse(text) as T) : (text as T);
  return { status: res.status, headers: res.headers, body: parsed, text };
}

export function newRequestId(): string {
  return `req_${randomBytes(12).toString('hex')}`;
}

/** A valid usage event; override what the test is about. */
export function usageEvent(overrides: Partial<UsageRecordedJobData> = {}): UsageRecordedJobData {
  return {
    schemaVersion: 1,
    requestId: newRequestId(),
    occurredAt: new Date().toISOString(),
    organisationId: 'org-a',
    tenantId: 'tenant-1',
    tenantName: 'Tenant One',
    keyId: 'key-1',
    keyName: 'Key One',
    channelId: 'channel-1',
    provider: 'openai',
    model: 'gpt-test',
    upstreamModel: 'gpt-test-2025',
    endpoint: ProxyEndpoint.ChatCompletions,
    stream: false,
    outcome: UsageOutcome.Ok,
    httpStatus: 200,
    errorCode: null,
    inputTokens: 1000,
    outputTokens: 500,
    cachedInputTokens: 0,
    tokensEstimated: false,
    latencyMs: 120,
    ttftMs: null,
    attempts: 1,
    reservedCostNanoUsd: '0',
    ...overrides,
  };
}

/** Writes usage straight through the worker's ledger writer (same SQL, same pricing), without a queue. */
export interface LedgerSeeder {
  record(event: UsageRecordedJobData): Promise<void>;
  dataSource: DataSource;
  close(): Promise<void>;
}

export async function createLedgerSeeder(config: BillingConfig): Promise<LedgerSeeder> {
  const dataSource = createBillingDataSource(config);
  await dataSource.initialize();
  const writer = new UsageLedgerWriter(dataSource, new PriceLookupService(dataSource));
  return {
    dataSource,
    async record(event) {
      const result = await writer.record(event);
      if (!result.inserted) throw new Error(`request ${event.requestId} was already recorded`);
    },
    close: () => dataSource.destroy(),
  };
}
