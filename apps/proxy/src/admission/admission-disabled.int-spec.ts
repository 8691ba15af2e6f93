import { AdmissionStore, type LimitSettings, NO_LIMITS } from '@tollgate/server-admission';
import { ProxyHarness } from '../testing/proxy-harness';

const MESSAGES = [{ role: 'user', content: 'Say a few words' }];
const limits = (l: Partial<LimitSettings>): LimitSettings => ({ ...NO_LIMITS, ...l });

describe('ADMISSION_ENABLED=false', () => {
  let h: ProxyHarness;
  let store: AdmissionStore;

  beforeAll(async () => {
    h = await ProxyHarness.create('admission_off');
    await h.addChannel({ models: ['gpt-4o-mini'] });
    store = new AdmissionStore(h.redis, { prefix: h.prefix.prefix });
    await h.start({ ADMISSION_ENABLED: 'false' });
  });
  afterAll(() => h.close());

  it('enforces no limit, reserves nothing and sends no rate-limit headers', async () => {
    const k = await h.addKey();
    const org = { kind: 'org', orgId: k.record.organisationId } as const;
    await store.writeLimits(org, limits({ rpm: 1, totalBudgetNano: 1n }));
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${h.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${k.secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: MESSAGES, max_tokens: 5 }),
      });
      await res.arrayBuffer();
      expect(res.status).toBe(200);
      expect(res.headers.get('x-ratelimit-limit-requests')).toBeNull();
    }
    const state = await store.readState(org, { timeZone: 'UTC' });
    expect(state.total).toMatchObject({ spentNano: 0n, reservedNano: 0n });
    expect(state.requestsLastMinute).toBe(0);
  });
});
