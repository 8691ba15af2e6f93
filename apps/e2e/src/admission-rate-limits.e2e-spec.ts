import { formatNanoAsUsd } from '@tollgate/pricing';
import { waitFor } from '@tollgate/server-testing';
import {
  AdmissionProbe,
  type Answer,
  assertCostModel,
  chatBody,
  createOrg,
  EXACT_ANSWER,
  keyScope,
  LedgerReader,
  ledgerSums,
  orgScope,
  postChat,
  putLimits,
  REQUEST_COST,
  REQUEST_TOKENS,
  runBounded,
  setUpCatalog,
  tally,
  tenantScope,
} from './support/admission';
import { TollgateApi } from './support/api';
import { startStack, type Stack } from './support/stack';

/**
 * The rate-limit half of the proof: requests per minute, tokens per minute and requests
 * in flight, each offered three times its limit through three proxy processes that share one
 * Redis. Every burst is over in a few seconds, well inside the 60-second windows, so the number
 * admitted must be the limit itself: at most the limit, and at least 98% of it.
 */

const PROXIES = 3;
/** the burst must end well inside the 60 s window for "at most the limit" to be the whole truth */
const WINDOW_MARGIN_MS = 45_000;
/**
 * Reservations a replica leaves behind when it dies expire after this long and are released by the
 * sweepers of the others (every 250 ms here). Longer than any request of this file takes.
 */
const RESERVATION_TTL_MS = 6_000;

let stack: Stack;
let api: TollgateApi;
let probe: AdmissionProbe;
let ledger: LedgerReader;

const proxyFor = (i: number): string => stack.proxyUrls[i % stack.proxyUrls.length];
const atLeast98 = (limit: number): number => Math.ceil(limit * 0.98);

/** Fires `count` requests (bounded concurrency, round-robin over the proxies); times the burst. */
async function burst(
  count: number,
  concurrency: number,
  secret: string,
  headers: Record<string, string> = EXACT_ANSWER,
): Promise<Answer[]> {
  const started = Date.now();
  const answers = await runBounded(count, concurrency, WINDOW_MARGIN_MS, (i) =>
    postChat(proxyFor(i), secret, chatBody(), headers),
  );
  const elapsed = Date.now() - started;
  if (elapsed > WINDOW_MARGIN_MS)
    throw new Error(`the burst took ${elapsed} ms: too close to the 60 s window to judge`);
  return answers;
}

function expectOnlyAdmittedOrLimited(answers: Answer[], message: RegExp): void {
  for (const a of answers) {
    if (a.status === 200) continue;
    expect({ status: a.status, code: a.code }).toEqual({
      status: 429,
      code: 'rate_limit_exceeded',
    });
    expect(a.message).toMatch(message);
    const retryAfter = Number(a.headers.get('retry-after'));
    // a request counts for 60 to 61 s (one-second buckets)
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 61).toBe(true);
  }
}

beforeAll(async () => {
  assertCostModel();
  stack = await startStack({
    proxies: PROXIES,
    proxyEnv: {
      LOG_LEVEL: 'warn',
      ADMISSION_RESERVATION_TTL_MS: String(RESERVATION_TTL_MS),
      ADMISSION_SWEEP_INTERVAL_MS: '250',
    },
  });
  api = new TollgateApi(stack.accountsUrl, stack.billingUrl);
  probe = new AdmissionProbe(stack.redisPrefix);
  ledger = new LedgerReader(stack.databaseUrl, stack.billingSchema);
  await setUpCatalog(stack, api, probe);
}, 180_000);

afterAll(async () => {
  probe?.close();
  await ledger?.close();
  await stack?.stop();
}, 60_000);

describe('rate limits across 3 proxy processes at three times the offered load', () => {
  it('requests per minute on a key: admitted ≤ limit and ≥ 98% of it', async () => {
    const RPM = 100;
    const org = await createOrg(api, 'rpm', [1]);
    const key = org.keys[0];
    await putLimits(api, org.token, `/keys/${key.id}`, { rpm: RPM });

    const answers = await burst(RPM * 3, 30, key.secret);

    const admitted = answers.filter((a) => a.status === 200).length;
    expect(admitted).toBeLessThanOrEqual(RPM);
    expect(admitted).toBeGreaterThanOrEqual(atLeast98(RPM));
    expectOnlyAdmittedOrLimited(
      answers,
      /^Rate limit reached for this API key: requests per minute\. Please try again in \d+s\.$/,
    );
    // every answer of a limited key, refusals included, carries the x-ratelimit-* headers
    for (const a of answers) {
      expect(a.headers.get('x-ratelimit-limit-requests')).toBe(String(RPM));
      const remaining = Number(a.headers.get('x-ratelimit-remaining-requests'));
      expect(remaining >= 0 && remaining <= RPM).toBe(true);
      expect(a.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+(\.\d+)?(ms|s)$|^\d+m/);
    }
    const byProxy = tally(answers.flatMap((a, i) => (a.status === 200 ? [i % PROXIES] : [])));
    console.log(
      `[admission] rpm ${RPM}: offered ${answers.length}, admitted ${admitted} (per proxy ${JSON.stringify(byProxy)})`,
    );
  }, 90_000);

  it('tokens per minute on a tenant: admitted ≤ limit and ≥ 98% of it', async () => {
    const FITS = 40;
    // each request counts its prompt estimate plus max_tokens, and settles the same actual count
    const TPM = REQUEST_TOKENS * FITS;
    const org = await createOrg(api, 'tpm', [2]);
    const [k0, k1] = org.keys;
    await putLimits(api, org.token, `/tenants/${org.tenants[0].id}`, { tpm: TPM });

    const started = Date.now();
    const answers = await runBounded(FITS * 3, 30, WINDOW_MARGIN_MS, (i) =>
      postChat(proxyFor(i), (i % 2 === 0 ? k0 : k1).secret, chatBody(), EXACT_ANSWER),
    );
    expect(Date.now() - started).toBeLessThan(WINDOW_MARGIN_MS);

    const admitted = answers.filter((a) => a.status === 200).length;
    expect(admitted).toBeLessThanOrEqual(FITS);
    expect(admitted).toBeGreaterThanOrEqual(atLeast98(FITS));
    expectOnlyAdmittedOrLimited(
      answers,
      /^Rate limit reached for this tenant: tokens per minute\. Please try again in \d+s\.$/,
    );
    for (const a of answers) expect(a.headers.get('x-ratelimit-limit-tokens')).toBe(String(TPM));
    const state = await probe.state({
      kind: 'tenant',
      orgId: org.orgId,
      tenantId: org.tenants[0].id,
    });
    expect(state.tokensLastMinute).toBeLessThanOrEqual(TPM);
    expect(state.tokensLastMinute).toBe(admitted * REQUEST_TOKENS);
    console.log(
      `[admission] tpm ${TPM} (${FITS} requests of ${REQUEST_TOKENS} tokens): offered ${answers.length}, admitted ${admitted}, tokens counted ${state.tokensLastMinute}`,
    );
  }, 90_000);

  it('concurrent requests on an organisation: admitted ≤ limit and ≥ 98% of it, and the slots come back', async () => {
    const MAX = 12;
    const org = await createOrg(api, 'concurrency', [1, 1]);
    await putLimits(api, org.token, `/orgs/${org.orgId}`, { maxConcurrent: MAX });
    // every admitted request holds its slot for 3 s; all 36 arrive well within that
    const slow = { ...EXACT_ANSWER, 'x-mock-latency-ms': '3000' };

    const answers = await runBounded(MAX * 3, MAX * 3, 30_000, (i) =>
      postChat(proxyFor(i), org.keys[i % 2].secret, chatBody(), slow),
    );

    const admitted = answers.filter((a) => a.status === 200).length;
    expect(admitted).toBeLessThanOrEqual(MAX);
    expect(admitted).toBeGreaterThanOrEqual(atLeast98(MAX));
    expectOnlyAdmittedOrLimited(
      answers,
      /^Rate limit reached for this organisation: concurrent requests\.( Please try again in \d+s\.)?$/,
    );

    // nothing is in flight any more, and a full set of slots admits again
    const [state] = await probe.settled([orgScope(org)]);
    expect(state.concurrent).toBe(0);
    expect(await probe.openReservations(org.orgId)).toBe(0);
    const again = await runBounded(MAX, MAX, 30_000, (i) =>
      postChat(proxyFor(i), org.keys[i % 2].secret, chatBody(), EXACT_ANSWER),
    );
    expect(tally(again.map((a) => a.status))).toEqual({ '200': MAX });
    console.log(
      `[admission] maxConcurrent ${MAX}: offered ${answers.length} at once, admitted ${admitted}; afterwards ${MAX} of ${MAX} admitted`,
    );
  }, 90_000);
});

// Last in this file: it kills one of the proxy processes.
describe('a crashed replica', () => {
  it('leaves its reservations to expire; the other replicas sweep them and the slots and budget come back', async () => {
    const MAX = 6;
    const C = REQUEST_COST;
    const org = await createOrg(api, 'crash', [1]);
    const key = org.keys[0];
    await putLimits(api, org.token, `/keys/${key.id}`, {
      maxConcurrent: MAX,
      totalBudgetUsd: formatNanoAsUsd(C * 100n),
    });
    const scopes = [keyScope(org, key.id), tenantScope(org, key.tenantId), orgScope(org)];
    const victim = stack.proxyUrls.length - 1;
    const survivors = stack.proxyUrls.slice(0, victim);

    // MAX requests the provider holds for 30 s, all on the replica about to die
    const held = Array.from({ length: MAX }, () =>
      postChat(
        stack.proxyUrls[victim],
        key.secret,
        chatBody(),
        { ...EXACT_ANSWER, 'x-mock-latency-ms': '30000' },
        40_000,
      ).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e)))),
    );
    await waitFor(async () => (await probe.state(scopes[0])).concurrent === MAX, {
      timeoutMs: 10_000,
      what: `${MAX} requests in flight`,
    });
    const full = await postChat(survivors[0], key.secret, chatBody(), EXACT_ANSWER);
    expect({ status: full.status, code: full.code }).toEqual({
      status: 429,
      code: 'rate_limit_exceeded',
    });

    await stack.killProxy(victim);
    const crashed = await Promise.all(held);
    for (const c of crashed) expect(c).toBeInstanceOf(Error);
    // nobody settled them: the reservations are still held right after the crash
    const right = await probe.state(scopes[0]);
    expect(right.total.reservedNano).toBe(C * BigInt(MAX));
    expect(await probe.openReservations(org.orgId)).toBe(MAX);

    // once they expire, the surviving replicas' sweepers release them: nothing reserved, nothing spent
    const states = await probe.settled(scopes, RESERVATION_TTL_MS + 15_000);
    for (const s of states) expect(s.total.spentNano).toBe(0n);
    expect(states[0].concurrent).toBe(0);
    expect(await probe.openReservations(org.orgId)).toBe(0);

    // and the key is served again, to its full concurrency, by the survivors
    const again = await runBounded(MAX, MAX, 20_000, (i) =>
      postChat(survivors[i % survivors.length], key.secret, chatBody(), EXACT_ANSWER),
    );
    expect(tally(again.map((a) => a.status))).toEqual({ '200': MAX });
    const after = await probe.settled(scopes);
    expect(after[0].total.spentNano).toBe(C * BigInt(MAX));
    // the crashed requests left no usage event: the counters still equal the ledger
    const rows = await ledger.waitForRows(org.orgId, MAX + 1);
    expect(rows).toHaveLength(MAX + 1);
    expect(ledgerSums(rows).org).toBe(after[2].total.spentNano);
    console.log(
      `[admission] crashed replica: ${MAX} reservations left by the killed process, released by the survivors' sweepers; ` +
        `then ${MAX} of ${MAX} admitted again, spend ${after[0].total.spentNano} nano = ledger ${ledgerSums(rows).org}`,
    );
  }, 90_000);
});
