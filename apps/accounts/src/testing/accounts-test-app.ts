import { randomBytes } from 'node:crypto';
import type { LoggerService } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import {
  type ProjectionChange,
  projectionKeys,
  type SignupResponseDto,
  type TokenPairResponseDto,
} from '@tollgate/contracts';
import { closeRedis, createRedis, listenAndDescribe, loadConfig } from '@tollgate/server-kit';
import {
  createTestRedisPrefix,
  createTestSchema,
  type TestRedisPrefix,
  type TestSchema,
  TEST_REDIS_URL,
} from '@tollgate/server-testing';
import type Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { createAccountsApp } from '../app.factory';
import { AccountsConfig } from '../config/accounts.config';
import { runAccountsMigrations } from '../database/run-migrations';

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface ApiRequest {
  token?: string;
  body?: unknown;
  /** sent as is, with `content-type: application/json` unless `headers` say otherwise */
  rawBody?: string;
  headers?: Record<string, string>;
}

export type Api = <T = unknown>(
  method: string,
  path: string,
  request?: ApiRequest,
) => Promise<ApiResponse<T>>;

export interface AccountsTestApp {
  app: NestExpressApplication;
  baseUrl: string;
  config: AccountsConfig;
  /** the app's own data source, for checking rows */
  db: DataSource;
  /** a separate Redis client for the test */
  redis: Redis;
  schema: TestSchema;
  redisPrefix: TestRedisPrefix;
  api: Api;
  /** a new user with a new organisation */
  signup(
    overrides?: Partial<{ email: string; password: string; organisationName: string }>,
  ): Promise<SignedUp>;
  /** an access token for the email and password */
  login(email: string, password: string): Promise<string>;
  /**
   * Every accounts row and every projection in Redis, as one comparable string: equal before and
   * after a refused request means it changed nothing. Login-failure counters are left out.
   */
  snapshot(): Promise<string>;
  /** collects every ProjectionChange published under the app's prefix */
  subscribeToChanges(): Promise<ChangeSubscription>;
  close(): Promise<void>;
}

export interface ChangeSubscription {
  changes: ProjectionChange[];
  close(): Promise<void>;
}

export interface SignedUp extends SignupResponseDto {
  password: string;
}

const ACCOUNTS_TABLES = [
  'organisations',
  'users',
  'memberships',
  'tenants',
  'api_keys',
  'channels',
  'channel_events',
  'refresh_tokens',
  'audit_log',
  'scope_limits',
  'scope_model_limits',
];

let counter = 0;
export const uniqueEmail = (label = 'user'): string =>
  `${label}-${Date.now().toString(36)}-${++counter}-${randomBytes(3).toString('hex')}@example.test`;

export function testEnv(
  schema: TestSchema,
  redisPrefix: TestRedisPrefix,
  env: Record<string, string> = {},
) {
  return {
    DATABASE_URL: schema.url,
    DB_SCHEMA: schema.schema,
    REDIS_URL: redisPrefix.url,
    TOLLGATE_REDIS_PREFIX: redisPrefix.prefix,
    JWT_SECRET: randomBytes(32).toString('hex'),
    TOLLGATE_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    // memory-hard still, but cheap enough for tests
    PASSWORD_HASH_COST: '14',
    LOG_LEVEL: 'error',
    HOST: '127.0.0.1',
    PORT: '0',
    ...env,
  };
}

/** Migrates a fresh schema, boots the real app on 127.0.0.1 with a port of its own. */
export async function startAccountsTestApp(
  label: string,
  env: Record<string, string> = {},
  options: { logger?: LoggerService } = {},
): Promise<AccountsTestApp> {
  const schema = await createTestSchema(`accounts_${label}`);
  const redisPrefix = createTestRedisPrefix(`accounts_${label}`, TEST_REDIS_URL);
  const config = loadConfig(AccountsConfig, testEnv(schema, redisPrefix, env));
  await runAccountsMigrations(config);
  const app = await createAccountsApp(config, options);
  const baseUrl = await listenAndDescribe(app, config.PORT, config.HOST);
  const redis = createRedis(redisPrefix.url);

  const api: Api = async (method, path, request = {}) => {
    const headers: Record<string, string> = { ...request.headers };
    if (request.token) headers.authorization = `Bearer ${request.token}`;
    let body: string | undefined;
    if (request.rawBody !== undefined) body = request.rawBody;
    else if (request.body !== undefined) body = JSON.stringify(request.body);
    if (
      body !== undefined &&
      !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')
    ) {
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers,
      body,
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    let parsed: unknown = undefined;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    return { status: res.status, headers: res.headers, body: parsed as never, text };
  };

  const signup: AccountsTestApp['signup'] = async (overrides = {}) => {
    const password = overrides.password ?? `pw-${randomBytes(8).toString('hex')}`;
    const res = await api<SignupResponseDto>('POST', '/api/v1/auth/signup', {
      body: {
        email: overrides.email ?? uniqueEmail(),
        password,
        organisationName: overrides.organisationName ?? `Org ${randomBytes(3).toString('hex')}`,
      },
    });
    if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${res.text}`);
    return { ...res.body, password };
  };

  const login: AccountsTestApp['login'] = async (email, password) => {
    const res = await api<TokenPairResponseDto>('POST', '/api/v1/auth/login', {
      body: { email, password },
    });
    if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.text}`);
    return res.body.accessToken;
  };

  const subscriptions: Redis[] = [];
  const subscribeToChanges: AccountsTestApp['subscribeToChanges'] = async () => {
    const subscriber = createRedis(redisPrefix.url);
    subscriptions.push(subscriber);
    const changes: ProjectionChange[] = [];
    subscriber.on('message', (_channel: string, message: string) =>
      changes.push(JSON.parse(message) as ProjectionChange),
    );
    await subscriber.subscribe(projectionKeys.changes(redisPrefix.prefix));
    return { changes, close: () => closeRedis(subscriber) };
  };

  const db = app.get(DataSource);
  const snapshot: AccountsTestApp['snapshot'] = async () => {
    const rows = (await db.query(
      ACCOUNTS_TABLES.map(
        (t) =>
          `SELECT '${t}' AS t, count(*)::int AS n, md5(coalesce(string_agg(x::text, '|' ORDER BY x.id), '')) AS h FROM ${t} x`,
      ).join(' UNION ALL '),
    )) as { t: string; n: number; h: string }[];
    const parts = rows.map((r) => `${r.t}:${r.n}:${r.h}`);
    const keys = (await redis.keys(`${redisPrefix.prefix}*`))
      .filter((k) => !k.includes(':login-failures:'))
      .sort();
    for (const key of keys) {
      const type = await redis.type(key);
      let value: string | null;
      if (type === 'hash') value = JSON.stringify(Object.entries(await redis.hgetall(key)).sort());
      else if (type === 'zset')
        value = JSON.stringify(await redis.zrange(key, 0, -1, 'WITHSCORES'));
      else value = await redis.get(key);
      parts.push(`${key}=${value}`);
    }
    return parts.join('\n');
  };

  return {
    app,
    baseUrl,
    config,
    db,
    snapshot,
    redis,
    schema,
    redisPrefix,
    api,
    signup,
    login,
    subscribeToChanges,
    async close() {
      for (const s of subscriptions) await closeRedis(s);
      await app.close();
      await closeRedis(redis);
      await redisPrefix.clean();
      await schema.drop();
    },
  };
}
