import {
  type ChannelProjection,
  type KeyRecordProjection,
  type PriceProjection,
  projectionKeys,
  ProxyEndpoint,
} from '@tollgate/contracts';
import { type RunningMockProvider, startMockProvider } from '@tollgate/mock-provider';
import { computeCostNano, type TokenPrice } from '@tollgate/pricing';
import {
  type AdmissionScope,
  admissionKeys,
  AdmissionStore,
  NO_LIMITS,
} from '@tollgate/server-admission';
import { SecretBox } from '@tollgate/server-kit';
import {
  createTestRedisPrefix,
  freeLoopbackPort,
  type TestRedisPrefix,
  waitFor,
} from '@tollgate/server-testing';
import Redis from 'ioredis';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { newKeySecret, sha256, UPSTREAM_KEY } from '../testing/proxy-harness';
import { estimateRequest } from './request-estimate';

/**
 * The proof across replicas: three proxy processes (the built dist, as deployed) share one
 * Redis; 500 concurrent requests spread over them against a budget that allows N. Every request
 * costs exactly its reservation (priced on output only, asked for exactly `max_tokens` words), so
 * "exactly N succeed" holds whatever the interleaving of admissions and settlements.
 */

const ROOT = path.resolve(__dirname, '../../../..');
const MAIN = path.join(ROOT, 'dist/apps/proxy/apps/proxy/src/main.js');
const LOG_DIR = path.join(ROOT, 'tmp', 'proxy-multi-process');
const PROCESSES = 3;
const REQUESTS = 500;
const WORDS = 10;
const PRICE: TokenPrice = { inputNanoUsdPerMTok: 0n, outputNanoUsdPerMTok: 1_000_000_000_000n };
const COST = computeCostNano({ inputTokens: 0, outputTokens: WORDS }, PRICE);
const CHAT_BODY = {
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'count to ten' }],
  max_tokens: WORDS,
};

interface Replica {
  url: string;
  proc: ChildProcess;
  log: string;
  exited: Promise<void>;
}

describe('admission across 3 proxy processes', () => {
  let prefix: TestRedisPrefix;
  let redis: Redis;
  let mock: RunningMockProvider;
  let store: AdmissionStore;
  const replicas: Replica[] = [];
  const encryptionKey = randomBytes(32).toString('base64');

  const addKey = async (organisationId: string, tenantId: string) => {
    const secret = newKeySecret();
    const record: KeyRecordProjection = {
      id: `key_${randomBytes(4).toString('hex')}`,
      name: 'multi-process key',
      prefix: secret.slice(0, 12),
      organisationId,
      tenantId,
      tenantName: tenantId,
      tenantGroup: 'default',
      models: null,
      expiresAt: null,
      revoked: false,
      allowFallback: true,
    };
    await redis.set(
      projectionKeys.keyRecord(prefix.prefix, sha256(secret)),
      JSON.stringify(record),
    );
    return { secret, record };
  };

  /** Fires `count` requests at once, round-robin over the replicas; the statuses and error codes. */
  const burst = async (
    secrets: readonly string[],
    count: number,
    extraHeaders: Record<string, string> = {},
  ) =>
    Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const res = await fetch(`${replicas[i % replicas.length]!.url}/v1/chat/completions`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${secrets[i % secrets.length]!}`,
            'content-type': 'application/json',
            'x-mock-words': String(WORDS),
            ...extraHeaders,
          },
          body: JSON.stringify(CHAT_BODY),
          signal: AbortSignal.timeout(30_000),
        });
        const body = (await res.json()) as { error?: { code: string | null } };
        return { status: res.status, code: body.error?.code ?? null };
      }),
    );

  const settled = (scope: AdmissionScope) =>
    waitFor(
      async () => {
        const s = await store.readSpend(scope, { kind: 'total' });
        return s.reservedNano === 0n ? s.spentNano : undefined;
      },
      { timeoutMs: 10_000, what: 'every reservation settled' },
    );

  beforeAll(async () => {
    // the processes run the built dist: build it (an Nx cache hit when nothing changed)
    const build = spawnSync('npx', ['nx', 'run', 'proxy:build', '--outputStyle=static'], {
      cwd: ROOT,
      env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
      encoding: 'utf8',
      timeout: 150_000,
    });
    if (build.status !== 0)
      throw new Error(`proxy:build failed:\n${build.stdout}\n${build.stderr}`.slice(-4000));

    prefix = createTestRedisPrefix('adm-mp');
    redis = new Redis(prefix.url, { maxRetriesPerRequest: 2 });
    store = new AdmissionStore(redis, { prefix: prefix.prefix });
    mock = await startMockProvider({ apiKey: UPSTREAM_KEY, models: ['gpt-4o-mini'] });
    const box = new SecretBox(encryptionKey);
    const channelId = randomUUID();
    const channel: ChannelProjection = {
      id: channelId,
      name: 'mock',
      type: 'openai',
      baseUrl: mock.baseUrl,
      encryptedApiKey: box.seal(UPSTREAM_KEY, channelId),
      models: ['gpt-4o-mini'],
      modelMapping: {},
      priority: 0,
      weight: 1,
      groups: ['default'],
      status: 'enabled',
      organisationId: null,
    };
    await redis.hset(projectionKeys.channels(prefix.prefix), channelId, JSON.stringify(channel));
    const price: PriceProjection = {
      model: 'gpt-4o-mini',
      inputNanoUsdPerMTok: PRICE.inputNanoUsdPerMTok.toString(),
      outputNanoUsdPerMTok: PRICE.outputNanoUsdPerMTok.toString(),
      version: 1,
    };
    await redis.hset(projectionKeys.prices(prefix.prefix), 'gpt-4o-mini', JSON.stringify(price));

    mkdirSync(LOG_DIR, { recursive: true });
    const base: Record<string, string> = {};
    for (const k of ['PATH', 'HOME', 'LANG', 'TZ', 'TMPDIR']) {
      const v = process.env[k];
      if (v !== undefined) base[k] = v;
    }
    for (let i = 0; i < PROCESSES; i++) {
      const port = await freeLoopbackPort();
      const log = path.join(LOG_DIR, `${prefix.prefix.replace(/:$/, '')}-${i}.log`);
      const fd = openSync(log, 'a');
      const proc = spawn(process.execPath, [MAIN], {
        cwd: ROOT,
        env: {
          ...base,
          NODE_ENV: 'production',
          HOST: '127.0.0.1',
          PORT: String(port),
          LOG_LEVEL: 'warn',
          REDIS_URL: prefix.url,
          TOLLGATE_REDIS_PREFIX: prefix.prefix,
          TOLLGATE_QUEUE_PREFIX: prefix.queuePrefix,
          TOLLGATE_ENCRYPTION_KEY: encryptionKey,
        },
        stdio: ['ignore', fd, fd],
      });
      closeSync(fd);
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      replicas.push({ url: `http://127.0.0.1:${port}`, proc, log, exited });
    }
    for (const r of replicas) {
      await waitFor(
        async () => {
          if (r.proc.exitCode !== null)
            throw new Error(`proxy exited: ${readFileSync(r.log, 'utf8').slice(-2000)}`);
          const res = await fetch(`${r.url}/health/ready`, { signal: AbortSignal.timeout(1000) });
          await res.arrayBuffer();
          return res.status === 200;
        },
        { timeoutMs: 30_000, what: `proxy ${r.url} ready` },
      );
    }
  }, 240_000);

  afterAll(async () => {
    for (const r of replicas) r.proc.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(replicas.map((r) => r.exited)),
      new Promise((r) => (timer = setTimeout(r, 10_000))),
    ]);
    clearTimeout(timer);
    for (const r of replicas) if (r.proc.exitCode === null) r.proc.kill('SIGKILL');
    await mock?.stop();
    await prefix?.clean();
    redis?.disconnect();
  }, 30_000);

  it(`admits exactly N of ${REQUESTS} concurrent requests on a key with a budget for N`, async () => {
    const N = 61n;
    const budget = COST * N + COST / 2n;
    const orgId = `org_${randomBytes(4).toString('hex')}`;
    const key = await addKey(orgId, `ten_${randomBytes(4).toString('hex')}`);
    const scope: AdmissionScope = { kind: 'key', orgId, keyId: key.record.id };
    await store.writeLimits(scope, { ...NO_LIMITS, totalBudgetNano: budget });

    const answers = await burst([key.secret], REQUESTS);

    expect(answers.filter((a) => a.status === 200)).toHaveLength(Number(N));
    expect(answers.filter((a) => a.status === 429 && a.code === 'insufficient_quota')).toHaveLength(
      REQUESTS - Number(N),
    );
    const spent = await settled(scope);
    expect(spent).toBe(COST * N);
    expect(spent).toBeLessThanOrEqual(budget);
    // no request was refused while a whole request's cost remained
    expect(budget - spent).toBeLessThan(COST);
    expect(await redis.zcard(admissionKeys.reservationExpiries(prefix.prefix, orgId))).toBe(0);
  }, 60_000);

  it('holds nested budgets: an organisation budget shared by keys of two tenants', async () => {
    const N = 45n;
    const budget = COST * N + COST / 3n;
    const orgId = `org_${randomBytes(4).toString('hex')}`;
    const tenants = [
      `ten_${randomBytes(4).toString('hex')}`,
      `ten_${randomBytes(4).toString('hex')}`,
    ];
    const keys = [
      await addKey(orgId, tenants[0]!),
      await addKey(orgId, tenants[0]!),
      await addKey(orgId, tenants[1]!),
    ];
    const orgScope: AdmissionScope = { kind: 'org', orgId };
    await store.writeLimits(orgScope, { ...NO_LIMITS, monthlyBudgetNano: budget });
    // looser limits below it are checked too, and must not let more through
    await store.writeLimits(
      { kind: 'tenant', orgId, tenantId: tenants[0]! },
      { ...NO_LIMITS, dailyBudgetNano: COST * 1000n },
    );
    await store.writeLimits(
      { kind: 'key', orgId, keyId: keys[2]!.record.id },
      { ...NO_LIMITS, totalBudgetNano: COST * 1000n },
    );

    const answers = await burst(
      keys.map((k) => k.secret),
      REQUESTS,
    );

    expect(answers.filter((a) => a.status === 200)).toHaveLength(Number(N));
    const spent = await settled(orgScope);
    expect(spent).toBe(COST * N);
    let byKeys = 0n;
    for (const k of keys) byKeys += await settled({ kind: 'key', orgId, keyId: k.record.id });
    expect(byKeys).toBe(spent);
    let byTenants = 0n;
    for (const tenantId of tenants) byTenants += await settled({ kind: 'tenant', orgId, tenantId });
    expect(byTenants).toBe(spent);
    expect(await redis.zcard(admissionKeys.reservationExpiries(prefix.prefix, orgId))).toBe(0);
  }, 60_000);

  it('holds rpm, tpm and concurrency limits at three times the offered load', async () => {
    const orgId = `org_${randomBytes(4).toString('hex')}`;
    const tenantId = `ten_${randomBytes(4).toString('hex')}`;
    const rateCode = (answers: { status: number; code: string | null }[]) =>
      answers.filter((a) => a.status === 429).every((a) => a.code === 'rate_limit_exceeded');

    // requests per minute: exactly the limit within the minute
    const rpmKey = await addKey(orgId, tenantId);
    await store.writeLimits(
      { kind: 'key', orgId, keyId: rpmKey.record.id },
      { ...NO_LIMITS, rpm: 100 },
    );
    const rpm = await burst([rpmKey.secret], 300);
    expect(rpm.filter((a) => a.status === 200)).toHaveLength(100);
    expect(rateCode(rpm)).toBe(true);

    // concurrent requests: the slow answers hold their slots for the whole burst
    const concKey = await addKey(orgId, tenantId);
    await store.writeLimits(
      { kind: 'key', orgId, keyId: concKey.record.id },
      { ...NO_LIMITS, maxConcurrent: 12 },
    );
    const conc = await burst([concKey.secret], 36, { 'x-mock-latency-ms': '2000' });
    expect(conc.filter((a) => a.status === 200)).toHaveLength(12);
    expect(rateCode(conc)).toBe(true);

    // tokens per minute: the estimate (prompt bound + max_tokens) is reserved, the actual
    // count settled, so at least limit / estimate get in and never more tokens than the limit
    const tpmKey = await addKey(orgId, tenantId);
    const reserved = estimateRequest(ProxyEndpoint.ChatCompletions, CHAT_BODY, 4096);
    const estimate = reserved.promptTokens + reserved.maxOutputTokens;
    const limit = 100 * estimate;
    await store.writeLimits(
      { kind: 'key', orgId, keyId: tpmKey.record.id },
      { ...NO_LIMITS, tpm: limit },
    );
    const tpm = await burst([tpmKey.secret], 300);
    const admitted = tpm.filter((a) => a.status === 200).length;
    expect(admitted).toBeGreaterThanOrEqual(100);
    expect(rateCode(tpm)).toBe(true);
    await settled({ kind: 'key', orgId, keyId: tpmKey.record.id });
    const state = await store.readState(
      { kind: 'key', orgId, keyId: tpmKey.record.id },
      { timeZone: 'UTC' },
    );
    expect(state.tokensLastMinute).toBeLessThanOrEqual(limit);
    expect(admitted * (1 + 3 + WORDS)).toBe(state.tokensLastMinute);
    expect(await redis.zcard(admissionKeys.reservationExpiries(prefix.prefix, orgId))).toBe(0);
  }, 60_000);

  it('admits a key far from its limits under leases, with failures and aborts mixed in, and books exactly what ran', async () => {
    const orgId = `org_${randomBytes(4).toString('hex')}`;
    const key = await addKey(orgId, `ten_${randomBytes(4).toString('hex')}`);
    const scope: AdmissionScope = { kind: 'key', orgId, keyId: key.record.id };
    await store.writeLimits(scope, {
      ...NO_LIMITS,
      totalBudgetNano: COST * 1_000_000n,
      rpm: 1_000_000,
      tpm: 1_000_000_000,
      maxConcurrent: 100_000,
    });
    await store.writeLimits(
      { kind: 'org', orgId },
      { ...NO_LIMITS, dailyBudgetNano: COST * 1_000_000n },
    );
    const TOTAL = 900;
    let next = 0;
    const answers: { kind: 'ok' | 'fail' | 'abort'; status: number }[] = [];
    // 8 at a time on each replica; every 5th is refused upstream, every 13th is given up by its client
    await Promise.all(
      Array.from({ length: PROCESSES * 8 }, async (_, lane) => {
        while (next < TOTAL) {
          const i = next++;
          const kind = i % 13 === 0 ? 'abort' : i % 5 === 0 ? 'fail' : 'ok';
          const headers: Record<string, string> = {
            authorization: `Bearer ${key.secret}`,
            'content-type': 'application/json',
            'x-mock-words': String(WORDS),
          };
          // a provider's 400 (a 5xx storm would open the channel's circuit for everyone)
          if (kind === 'fail') headers['x-mock-fail-status'] = '400';
          if (kind === 'abort') headers['x-mock-latency-ms'] = '2000';
          try {
            const res = await fetch(`${replicas[lane % PROCESSES]!.url}/v1/chat/completions`, {
              method: 'POST',
              headers,
              body: JSON.stringify(CHAT_BODY),
              signal: AbortSignal.timeout(kind === 'abort' ? 50 : 30_000),
            });
            await res.arrayBuffer();
            answers.push({ kind, status: res.status });
          } catch {
            answers.push({ kind, status: 0 });
          }
        }
      }),
    );
    expect(answers.filter((a) => a.kind === 'ok').every((a) => a.status === 200)).toBe(true);
    expect(answers.filter((a) => a.kind !== 'ok').every((a) => a.status !== 200)).toBe(true);
    const ok = answers.filter((a) => a.status === 200).length;

    expect(await settled(scope)).toBe(COST * BigInt(ok));
    expect(await settled({ kind: 'org', orgId })).toBe(COST * BigInt(ok));
    const state = await waitFor(
      async () => {
        const s = await store.readState(scope, { timeZone: 'UTC' });
        return s.concurrent === 0 ? s : undefined;
      },
      { timeoutMs: 10_000, what: 'no request in flight' },
    );
    // every request counted once, the unused parts of leases given back (a request its client gave
    // up on before the proxy admitted it — on a busy machine — is not counted at all)
    const aborted = answers.filter((a) => a.kind === 'abort').length;
    expect(state.requestsLastMinute).toBeLessThanOrEqual(TOTAL);
    expect(state.requestsLastMinute).toBeGreaterThanOrEqual(TOTAL - aborted);
    expect(state.tokensLastMinute).toBe(ok * (1 + 3 + WORDS));
    expect(await redis.zcard(admissionKeys.reservationExpiries(prefix.prefix, orgId))).toBe(0);
    // far fewer reservations than requests: most were admitted under leases
    let records = 0;
    let cursor = '0';
    do {
      const [nextCursor, keys] = await redis.scan(
        cursor,
        'MATCH',
        `${admissionKeys.orgBase(prefix.prefix, orgId)}r:*`,
        'COUNT',
        1000,
      );
      cursor = nextCursor;
      records += keys.length;
    } while (cursor !== '0');
    expect(records).toBeLessThan(TOTAL / 3);
  }, 60_000);
});
