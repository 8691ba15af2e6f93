import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { Client } from 'pg';
import type { LimitsResponseDto, UpdateLimitsRequestDto } from '@tollgate/contracts';
import { mockPromptTokens } from '@tollgate/mock-provider';
import { computeCostNano, parseUsdToNano, type TokenPrice } from '@tollgate/pricing';
import { estimateChatPromptTokens } from '@tollgate/providers';
import {
  type AdmissionScope,
  type AdmissionState,
  AdmissionStore,
  admissionKeys,
} from '@tollgate/server-admission';
import { TEST_REDIS_URL, waitFor } from '@tollgate/server-testing';
import { expectStatus, type TollgateApi } from './api';
import type { Stack } from './stack';

/**
 * Helpers of the admission suites (admission-*.e2e-spec.ts): requests spread over several proxy
 * processes with bounded concurrency, the live admission counters in Redis, and billing's ledger
 * in PostgreSQL, read directly so that the two can be compared.
 */

export const MODEL = 'gpt-4o-mini';
/** USD per million tokens, as the platform admin sets them through billing's API */
export const PRICE_USD = { input: '2.5', output: '10' } as const;
export const PRICE: TokenPrice = {
  inputNanoUsdPerMTok: parseUsdToNano(PRICE_USD.input),
  outputNanoUsdPerMTok: parseUsdToNano(PRICE_USD.output),
};
/** The one message of every request of the admission suites. */
export const MESSAGES = [{ role: 'user' as const, content: 'we go up to it as an ox' }];
/** `max_tokens` of every request, and the words the mock answers with */
export const WORDS = 10;

/**
 * The proxy's prompt bound (the default `ADMISSION_PROMPT_ESTIMATE=bound`) of a chat body whose
 * messages are plain text. A COPY of `promptTokenBound` in
 * apps/proxy/src/admission/request-estimate.ts for that case, because e2e may not import an app:
 * 16 tokens per request (PROMPT_BOUND_FIXED_TOKENS) + per message 4 tokens
 * (PROMPT_BOUND_TOKENS_PER_MESSAGE) + the UTF-8 bytes of its role and content. Keep the two in
 * step: `setUpCatalog` checks the proxies' reservation against it before the suites run.
 */
export function chatPromptBound(messages: readonly { role: string; content: string }[]): number {
  let n = 16;
  for (const m of messages)
    n += 4 + Buffer.byteLength(m.role, 'utf8') + Buffer.byteLength(m.content, 'utf8');
  return n;
}

/**
 * The prompt tokens the proxy reserves for MESSAGES, and (through EXACT_ANSWER's
 * `x-mock-prompt-tokens`) the prompt tokens the mock reports for them: a request's reservation is
 * exactly its actual cost, so "exactly N of them fit" holds whatever the interleaving.
 */
export const PROMPT_TOKENS = chatPromptBound(MESSAGES);
/**
 * The proxy's own four-characters-per-token estimate of MESSAGES, which it bills as the prompt
 * when no usage arrived (a stream cut before its usage chunk).
 */
export const ESTIMATED_PROMPT_TOKENS = estimateChatPromptTokens({ messages: MESSAGES });
/** what one complete request costs, in nano-USD (its reservation is the same) */
export const REQUEST_COST = computeCostNano(
  { inputTokens: PROMPT_TOKENS, outputTokens: WORDS },
  PRICE,
);
/** what one complete request counts against a tokens-per-minute limit */
export const REQUEST_TOKENS = PROMPT_TOKENS + WORDS;

/**
 * Fails fast if the cost model is off: the bound must be above what the mock would count by
 * itself and above the heuristic (else it is no bound, and the copy above has drifted).
 */
export function assertCostModel(): void {
  const mock = mockPromptTokens(MESSAGES);
  if (PROMPT_TOKENS < mock || PROMPT_TOKENS < ESTIMATED_PROMPT_TOKENS) {
    throw new Error(
      `the prompt bound ${PROMPT_TOKENS} is below the mock's count ${mock} or the heuristic ${ESTIMATED_PROMPT_TOKENS}`,
    );
  }
}

export function chatBody(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: MODEL, messages: MESSAGES, max_tokens: WORDS, ...extra };
}

/**
 * The mock's answer settings for a complete, deterministic answer of WORDS tokens to a prompt it
 * counts as PROMPT_TOKENS (the proxies forward `x-mock-*` headers: FORWARD_HEADER_PREFIXES).
 */
export const EXACT_ANSWER: Record<string, string> = {
  'x-mock-words': String(WORDS),
  'x-mock-chunks': String(WORDS),
  'x-mock-prompt-tokens': String(PROMPT_TOKENS),
};

// ---- requests ---------------------------------------------------------------------------------

export interface Answer {
  status: number;
  /** OpenAI error code of an error answer */
  code: string | null;
  message: string | null;
  requestId: string | null;
  headers: Headers;
}

/** One non-streamed request to a proxy; a transport failure is an answer with status 0. */
export async function postChat(
  proxyUrl: string,
  secret: string,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<Answer> {
  const res = await fetch(`${proxyUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${secret}`,
      'content-type': 'application/json',
      ...headers,
    },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let code: string | null = null;
  let message: string | null = null;
  if (res.status !== 200) {
    try {
      const err = (JSON.parse(text) as { error?: { code?: string | null; message?: string } })
        .error;
      code = err?.code ?? null;
      message = err?.message ?? null;
    } catch {
      message = text.slice(0, 300);
    }
  }
  return {
    status: res.status,
    code,
    message,
    requestId: res.headers.get('x-request-id'),
    headers: res.headers,
  };
}

export interface StreamAnswer extends Answer {
  /** the text of each content delta received, in order (empty deltas left out) */
  deltas: string[];
  /** the stream ended with `data: [DONE]` */
  done: boolean;
  /** an `error` event ended the stream */
  streamError: string | null;
  /** the client hung up after `abortAfterDeltas` deltas */
  aborted: boolean;
}

/**
 * One streamed request; reads the events as they come. With `abortAfterDeltas`, the client hangs
 * up as soon as it has received that many content deltas.
 */
export async function streamChat(
  proxyUrl: string,
  secret: string,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
  opts: { abortAfterDeltas?: number; timeoutMs?: number } = {},
): Promise<StreamAnswer> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error('timeout')), opts.timeoutMs ?? 30_000);
  try {
    const res = await fetch(`${proxyUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${secret}`,
        'content-type': 'application/json',
        ...headers,
      },
      body: JSON.stringify({ ...body, stream: true }),
      signal: controller.signal,
    });
    const answer: StreamAnswer = {
      status: res.status,
      code: null,
      message: null,
      requestId: res.headers.get('x-request-id'),
      headers: res.headers,
      deltas: [],
      done: false,
      streamError: null,
      aborted: false,
    };
    if (res.status !== 200 || !res.body) {
      const text = await res.text();
      try {
        const err = (JSON.parse(text) as { error?: { code?: string | null; message?: string } })
          .error;
        answer.code = err?.code ?? null;
        answer.message = err?.message ?? null;
      } catch {
        answer.message = text.slice(0, 300);
      }
      return answer;
    }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (e) {
        // the proxy cut the connection after an upstream failure
        answer.streamError ??= e instanceof Error ? e.message : String(e);
        return answer;
      }
      if (chunk.done) return answer;
      buffer += decoder.decode(chunk.value, { stream: true });
      let sep: number;
      while ((sep = buffer.indexOf('\n\n')) >= 0) {
        const event = buffer.slice(0, sep);
        buffer = buffer.slice(sep + 2);
        const data = event
          .split('\n')
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).trimStart())
          .join('\n');
        if (data === '') continue;
        if (data === '[DONE]') {
          answer.done = true;
          continue;
        }
        const parsed = JSON.parse(data) as {
          error?: { message?: string };
          choices?: { delta?: { content?: string | null } }[];
        };
        if (parsed.error) {
          answer.streamError = parsed.error.message ?? 'error event';
          continue;
        }
        const content = parsed.choices?.[0]?.delta?.content;
        if (typeof content === 'string' && content.length > 0) {
          answer.deltas.push(content);
          if (
            opts.abortAfterDeltas !== undefined &&
            answer.deltas.length >= opts.abortAfterDeltas
          ) {
            answer.aborted = true;
            controller.abort(new Error('client hangs up'));
            await reader.cancel().catch(() => undefined);
            return answer;
          }
        }
      }
    }
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs `count` tasks, at most `concurrency` at a time, and fails if they are not all done within
 * `deadlineMs` (each task must bound its own duration too: the requests above time out).
 */
export async function runBounded<T>(
  count: number,
  concurrency: number,
  deadlineMs: number,
  task: (i: number) => Promise<T>,
): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${count} requests did not finish within ${deadlineMs} ms`)),
      deadlineMs,
    );
  });
  try {
    await Promise.race([
      Promise.all(Array.from({ length: Math.min(concurrency, count) }, () => worker())),
      expired,
    ]);
  } finally {
    clearTimeout(timer);
  }
  return results;
}

/** A small seeded generator (mulberry32), so a run's mix of faults can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- organisations, keys and limits through the accounts API ----------------------------------

export interface TestKey {
  id: string;
  secret: string;
  tenantId: string;
}

export interface TestOrg {
  orgId: string;
  token: string;
  /** tenant id → its keys */
  tenants: { id: string; keys: TestKey[] }[];
  keys: TestKey[];
}

/** Signs up a new organisation with `keysPerTenant.length` tenants and that many keys in each. */
export async function createOrg(
  api: TollgateApi,
  label: string,
  keysPerTenant: number[],
): Promise<TestOrg> {
  const uniq = randomBytes(4).toString('hex');
  const signup = await api.signup(
    `${label}-${uniq}@example.com`,
    'correct-horse-battery-staple',
    `${label} ${uniq}`,
  );
  const token = signup.accessToken;
  const org: TestOrg = { orgId: signup.organisation.id, token, tenants: [], keys: [] };
  for (const [t, n] of keysPerTenant.entries()) {
    const tenant = await api.createTenant(token, org.orgId, `${label}-tenant-${t}`);
    const keys: TestKey[] = [];
    for (let k = 0; k < n; k++) {
      const key = await api.createKey(token, tenant.id, { name: `${label}-key-${t}-${k}` });
      keys.push({ id: key.id, secret: key.key, tenantId: tenant.id });
    }
    org.tenants.push({ id: tenant.id, keys });
    org.keys.push(...keys);
  }
  return org;
}

export type LimitPath = `/orgs/${string}` | `/tenants/${string}` | `/keys/${string}`;

/** `PUT …/limits` as an organisation owner would call it; returns the settings answered. */
export async function putLimits(
  api: TollgateApi,
  token: string,
  path: LimitPath,
  body: UpdateLimitsRequestDto,
): Promise<LimitsResponseDto> {
  const res = await api.accounts<LimitsResponseDto>('PUT', `${path}/limits`, { token, body });
  return expectStatus(res, 200, `PUT ${path}/limits`);
}

export const orgScope = (org: TestOrg): AdmissionScope => ({ kind: 'org', orgId: org.orgId });
export const tenantScope = (org: TestOrg, tenantId: string): AdmissionScope => ({
  kind: 'tenant',
  orgId: org.orgId,
  tenantId,
});
export const keyScope = (org: TestOrg, keyId: string): AdmissionScope => ({
  kind: 'key',
  orgId: org.orgId,
  keyId,
});

/** Every scope of an organisation: the organisation, its tenants and its keys. */
export function allScopes(org: TestOrg): AdmissionScope[] {
  return [
    orgScope(org),
    ...org.tenants.map((t) => tenantScope(org, t.id)),
    ...org.keys.map((k) => keyScope(org, k.id)),
  ];
}

// ---- the catalogue: a channel to the mock provider and the model's price ----------------------

/**
 * As the platform admin: a channel to the mock provider and the model's price. Returns once every
 * proxy process serves the model and prices it (a probe request through each one settles exactly
 * REQUEST_COST on a throwaway organisation's counters).
 */
export async function setUpCatalog(
  stack: Stack,
  api: TollgateApi,
  probe: AdmissionProbe,
): Promise<void> {
  const admin = (await api.login(stack.admin.email, stack.admin.password)).accessToken;
  await api.createChannel(admin, {
    name: 'mock',
    type: 'openai',
    baseUrl: `${stack.mockUrl}/v1`,
    apiKey: `sk-mock-${randomBytes(4).toString('hex')}`,
    models: [MODEL],
  });
  await api.putPrice(admin, MODEL, PRICE_USD.input, PRICE_USD.output);
  const warm = await createOrg(api, 'warm-up', [1]);
  const key = warm.keys[0];
  const scope = keyScope(warm, key.id);
  for (const proxyUrl of stack.proxyUrls) {
    await waitFor(
      async () => {
        const before = (await probe.state(scope)).total.spentNano;
        const a = await postChat(proxyUrl, key.secret, chatBody(), EXACT_ANSWER, 5_000);
        if (a.status !== 200) return false;
        const after = await waitFor(
          async () => {
            const s = await probe.state(scope);
            return s.total.reservedNano === 0n ? s.total.spentNano : undefined;
          },
          { timeoutMs: 5_000, what: 'the warm-up request settled' },
        );
        return after - before === REQUEST_COST;
      },
      { timeoutMs: 20_000, intervalMs: 200, what: `${proxyUrl} to serve and price ${MODEL}` },
    );
  }
  // the proxies reserved exactly the cost of each priced probe: the copy of the prompt bound above
  // agrees with theirs
  const ledger = new LedgerReader(stack.databaseUrl, stack.billingSchema);
  try {
    const priced = await waitFor(
      async () => {
        const rows = (await ledger.rows(warm.orgId)).filter((r) => r.costNano === REQUEST_COST);
        return rows.length >= stack.proxyUrls.length ? rows : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'the warm-up requests in the ledger' },
    );
    if (priced.some((r) => r.reservedCostNano !== REQUEST_COST)) {
      throw new Error(
        `the proxies reserved ${priced.map((r) => r.reservedCostNano).join(', ')} nano for probes costing ${REQUEST_COST}: ` +
          'chatPromptBound no longer matches apps/proxy/src/admission/request-estimate.ts',
      );
    }
  } finally {
    await ledger.close();
  }
}

// ---- the admission counters in Redis ----------------------------------------------------------

/** Reads the admission state the proxies write, through the library's own reader. */
export class AdmissionProbe {
  private readonly redis: Redis;
  readonly store: AdmissionStore;

  constructor(private readonly prefix: string) {
    this.redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 2 });
    this.store = new AdmissionStore(this.redis, { prefix });
  }

  state(scope: AdmissionScope): Promise<AdmissionState> {
    return this.store.readState(scope, { timeZone: 'UTC' });
  }

  /** Reservations of the organisation not yet settled or released (the sweeper's index). */
  openReservations(orgId: string): Promise<number> {
    return this.redis.zcard(admissionKeys.reservationExpiries(this.prefix, orgId));
  }

  /** Waits until no reservation is held anywhere in `scopes` (bounded); returns their states. */
  async settled(scopes: AdmissionScope[], timeoutMs = 20_000): Promise<AdmissionState[]> {
    return waitFor(
      async () => {
        const states = await Promise.all(scopes.map((s) => this.state(s)));
        const idle = states.every(
          (s) =>
            s.total.reservedNano === 0n && s.day.reservedNano === 0n && s.month.reservedNano === 0n,
        );
        return idle ? states : undefined;
      },
      { timeoutMs, intervalMs: 100, what: 'every reservation settled or released' },
    );
  }

  close(): void {
    this.redis.disconnect();
  }
}

// ---- billing's ledger -------------------------------------------------------------------------

export interface LedgerRow {
  requestId: string;
  tenantId: string;
  keyId: string;
  outcome: string;
  stream: boolean;
  httpStatus: number;
  errorCode: string | null;
  inputTokens: number;
  outputTokens: number;
  tokensEstimated: boolean;
  costNano: bigint;
  /** what admission reserved for the request */
  reservedCostNano: bigint;
}

/** billing's usage ledger, read straight from its schema. */
export class LedgerReader {
  private readonly client: Client;
  private connected: Promise<unknown> | null = null;

  constructor(
    databaseUrl: string,
    private readonly schema: string,
  ) {
    this.client = new Client({ connectionString: databaseUrl });
  }

  async rows(orgId: string): Promise<LedgerRow[]> {
    this.connected ??= this.client.connect();
    await this.connected;
    const res = await this.client.query<{
      request_id: string;
      tenant_id: string;
      key_id: string;
      outcome: string;
      stream: boolean;
      http_status: number;
      error_code: string | null;
      input_tokens: number;
      output_tokens: number;
      tokens_estimated: boolean;
      cost_nano_usd: string;
      reserved_cost_nano_usd: string;
    }>(
      `SELECT request_id, tenant_id, key_id, outcome, stream, http_status, error_code, input_tokens,
              output_tokens, tokens_estimated, cost_nano_usd::text AS cost_nano_usd,
              reserved_cost_nano_usd::text AS reserved_cost_nano_usd
         FROM "${this.schema}".usage_ledger WHERE organisation_id = $1`,
      [orgId],
    );
    return res.rows.map((r) => ({
      requestId: r.request_id,
      tenantId: r.tenant_id,
      keyId: r.key_id,
      outcome: r.outcome,
      stream: r.stream,
      httpStatus: r.http_status,
      errorCode: r.error_code,
      inputTokens: r.input_tokens,
      outputTokens: r.output_tokens,
      tokensEstimated: r.tokens_estimated,
      costNano: BigInt(r.cost_nano_usd),
      reservedCostNano: BigInt(r.reserved_cost_nano_usd),
    }));
  }

  /** Waits (bounded) until the worker has written `count` rows for the organisation. */
  async waitForRows(orgId: string, count: number, timeoutMs = 30_000): Promise<LedgerRow[]> {
    let seen = 0;
    try {
      return await waitFor(
        async () => {
          const rows = await this.rows(orgId);
          seen = rows.length;
          return rows.length >= count ? rows : undefined;
        },
        { timeoutMs, intervalMs: 200, what: `${count} ledger rows` },
      );
    } catch (e) {
      throw new Error(`${String(e)} (the ledger has ${seen})`);
    }
  }

  async close(): Promise<void> {
    if (this.connected) await this.client.end();
  }
}

/** Sum of the ledger's cost per key, tenant and organisation. */
export function ledgerSums(rows: LedgerRow[]): {
  org: bigint;
  tenant: Map<string, bigint>;
  key: Map<string, bigint>;
} {
  let org = 0n;
  const tenant = new Map<string, bigint>();
  const key = new Map<string, bigint>();
  for (const r of rows) {
    org += r.costNano;
    tenant.set(r.tenantId, (tenant.get(r.tenantId) ?? 0n) + r.costNano);
    key.set(r.keyId, (key.get(r.keyId) ?? 0n) + r.costNano);
  }
  return { org, tenant, key };
}

/** Counts of equal strings (status codes, error codes), for compact failure messages. */
export function tally(values: readonly (string | number | null)[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[String(v)] = (out[String(v)] ?? 0) + 1;
  return out;
}
