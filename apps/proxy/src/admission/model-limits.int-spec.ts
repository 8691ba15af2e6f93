import { UsageOutcome } from '@tollgate/contracts';
import { computeCostNano, type TokenPrice } from '@tollgate/pricing';
import {
  type AnyAdmissionScope,
  AdmissionStore,
  type LimitSettings,
  NO_LIMITS,
} from '@tollgate/server-admission';
import { waitFor } from '@tollgate/server-testing';
import { randomBytes } from 'node:crypto';
import { ProxyHarness, type TestKey } from '../testing/proxy-harness';

const MESSAGES = [{ role: 'user', content: 'Say a few words' }];
const MODEL_A = 'gpt-4o-mini';
const MODEL_B = 'exact-model';
/** priced on output only, asked for exactly `max_tokens` words: reservation = actual cost */
const EXACT: TokenPrice = { inputNanoUsdPerMTok: 0n, outputNanoUsdPerMTok: 1_000_000_000_000n };
const WORDS = 10;
const EXACT_COST = computeCostNano({ inputTokens: 0, outputTokens: WORDS }, EXACT);
const EXACT_HEADERS = { 'x-mock-words': String(WORDS) };

interface Answer {
  status: number;
  headers: Headers;
  json: { error?: { message: string; type: string; code: string | null } };
  requestId: string;
}

describe('per-model limits on the proxy', () => {
  let h: ProxyHarness;
  let store: AdmissionStore;

  const keyModel = (k: TestKey, model: string): AnyAdmissionScope => ({
    kind: 'key-model',
    orgId: k.record.organisationId,
    keyId: k.record.id,
    model,
  });
  const limits = (l: Partial<LimitSettings>): LimitSettings => ({ ...NO_LIMITS, ...l });

  async function post(k: TestKey, model: string, headers: Record<string, string> = {}) {
    const res = await fetch(`${h.url}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${k.secret}`,
        'content-type': 'application/json',
        ...headers,
      },
      body: JSON.stringify({ model, messages: MESSAGES, max_tokens: WORDS }),
    });
    return {
      status: res.status,
      headers: res.headers,
      json: JSON.parse(await res.text()) as Answer['json'],
      requestId: res.headers.get('x-request-id') ?? '',
    } satisfies Answer;
  }

  beforeAll(async () => {
    h = await ProxyHarness.create('model_limits');
    await h.addChannel({
      models: [MODEL_A, MODEL_B],
      modelMapping: { [MODEL_B]: MODEL_A },
    });
    store = new AdmissionStore(h.redis, { prefix: h.prefix.prefix });
    await h.projectPrice(MODEL_B, EXACT);
    await h.start();
  });
  afterAll(() => h.close());

  it('answers 429 on the third request to a model limited to 2 rpm while another model passes', async () => {
    const k = await h.addKey();
    await store.writeLimits(keyModel(k, MODEL_A), limits({ rpm: 2 }));
    const first = await post(k, MODEL_A);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-limit-requests')).toBe('2');
    expect(first.headers.get('x-ratelimit-remaining-requests')).toBe('1');
    expect((await post(k, MODEL_A)).status).toBe(200);

    const refused = await post(k, MODEL_A);
    expect(refused.status).toBe(429);
    expect(refused.json.error).toMatchObject({ code: 'rate_limit_exceeded', type: 'requests' });
    expect(refused.json.error?.message).toContain(`API key on model "${MODEL_A}"`);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await h.usage(refused.requestId)).toMatchObject({
      outcome: UsageOutcome.Rejected,
      httpStatus: 429,
      errorCode: 'rate_limit_exceeded',
    });

    const other = await post(k, MODEL_B, EXACT_HEADERS);
    expect(other.status).toBe(200);
    expect(other.headers.get('x-ratelimit-limit-requests')).toBeNull();
  });

  it('refuses with insufficient_quota once a per-model budget of the tenant is spent', async () => {
    const tenantId = `ten_${randomBytes(4).toString('hex')}`;
    const k = await h.addKey({ tenantId });
    const scope: AnyAdmissionScope = {
      kind: 'tenant-model',
      orgId: k.record.organisationId,
      tenantId,
      model: MODEL_B,
    };
    await store.writeLimits(scope, limits({ totalBudgetNano: EXACT_COST }));
    expect((await post(k, MODEL_B, EXACT_HEADERS)).status).toBe(200);
    const spent = await waitFor(
      async () => {
        const s = await store.readSpend(scope, { kind: 'total' });
        return s.reservedNano === 0n ? s.spentNano : undefined;
      },
      { timeoutMs: 5000, what: 'the per-model reservation settled' },
    );
    expect(spent).toBe(EXACT_COST);

    const refused = await post(k, MODEL_B, EXACT_HEADERS);
    expect(refused.status).toBe(429);
    expect(refused.json.error).toMatchObject({
      code: 'insufficient_quota',
      type: 'insufficient_quota',
    });
    expect(refused.json.error?.message).toBe(
      `You exceeded the total budget of this tenant on model "${MODEL_B}".`,
    );
    expect(refused.headers.get('retry-after')).toBeNull();
    expect(await h.usage(refused.requestId)).toMatchObject({
      outcome: UsageOutcome.Rejected,
      errorCode: 'insufficient_quota',
    });
    // the other model of the same tenant is not limited by it
    expect((await post(k, MODEL_A)).status).toBe(200);
  });
});
