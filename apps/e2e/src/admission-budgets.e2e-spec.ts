import {
  type BalanceResponseDto,
  type UpdateLimitsRequestDto,
  UsageOutcome,
} from '@tollgate/contracts';
import { computeCostNano, formatNanoAsUsd } from '@tollgate/pricing';
import { mockPromptTokens } from '@tollgate/mock-provider';
import { CHARS_PER_TOKEN, estimateChatPromptTokens } from '@tollgate/providers';
import type { AdmissionScope, AdmissionState } from '@tollgate/server-admission';
import {
  AdmissionProbe,
  type Answer,
  assertCostModel,
  chatBody,
  createOrg,
  ESTIMATED_PROMPT_TOKENS,
  EXACT_ANSWER,
  keyScope,
  LedgerReader,
  type LedgerRow,
  ledgerSums,
  type LimitPath,
  orgScope,
  postChat,
  PRICE,
  PROMPT_TOKENS,
  putLimits,
  REQUEST_COST,
  runBounded,
  seededRandom,
  setUpCatalog,
  streamChat,
  type StreamAnswer,
  tally,
  tenantScope,
  type TestOrg,
  allScopes,
  WORDS,
} from './support/admission';
import { expectStatus, TollgateApi } from './support/api';
import { startStack, type Stack } from './support/stack';

/**
 * The budget half of the proof, against the built services: three proxy processes share
 * one Redis, billing's worker writes the priced ledger to PostgreSQL, and everything is set up
 * through the accounts and billing APIs. Each request is priced so that its reservation is exactly
 * its cost (see support/admission.ts), which makes "exactly N fit" a sharp claim.
 */

const PROXIES = 3;
/** the proxy's cut for a provider that does not answer; the "timeout" faults wait longer */
const FIRST_BYTE_TIMEOUT_MS = 2_000;

let stack: Stack;
let api: TollgateApi;
let probe: AdmissionProbe;
let ledger: LedgerReader;

const C = REQUEST_COST;
const proxyFor = (i: number): string => stack.proxyUrls[i % stack.proxyUrls.length];

/** The output tokens the proxy bills for a cut stream: its estimate over the text relayed. */
function estimatedOutput(deltas: string[]): number {
  const chars = deltas.reduce((n, d) => n + d.length, 0);
  return Math.max(deltas.length, Math.ceil(chars / CHARS_PER_TOKEN));
}

function expectIdle(states: AdmissionState[]): void {
  for (const s of states) {
    expect({ scope: s.scope, reserved: s.total.reservedNano }).toEqual({
      scope: s.scope,
      reserved: 0n,
    });
    expect(s.day.reservedNano).toBe(0n);
    expect(s.month.reservedNano).toBe(0n);
  }
}

/** Redis' committed spend of every scope equals the ledger's sum for it (total, day and month). */
function expectCountersEqualLedger(
  scopes: AdmissionScope[],
  states: AdmissionState[],
  rows: LedgerRow[],
): void {
  const sums = ledgerSums(rows);
  const found: Record<string, { redis: string; ledger: string }> = {};
  const wanted: Record<string, { redis: string; ledger: string }> = {};
  scopes.forEach((scope, i) => {
    const s = states[i];
    const ledgerSum =
      scope.kind === 'org'
        ? sums.org
        : scope.kind === 'tenant'
          ? (sums.tenant.get(scope.tenantId) ?? 0n)
          : (sums.key.get(scope.keyId) ?? 0n);
    const name =
      scope.kind === 'org'
        ? 'org'
        : scope.kind === 'tenant'
          ? `tenant ${scope.tenantId}`
          : `key ${scope.keyId}`;
    found[name] = { redis: s.total.spentNano.toString(), ledger: ledgerSum.toString() };
    wanted[name] = { redis: ledgerSum.toString(), ledger: ledgerSum.toString() };
    // every row of this run is of today (UTC), unless the run crossed midnight
    if (s.day.id === new Date().toISOString().slice(0, 10)) expect(s.day.spentNano).toBe(ledgerSum);
    if (s.month.id === new Date().toISOString().slice(0, 7))
      expect(s.month.spentNano).toBe(ledgerSum);
  });
  expect(found).toEqual(wanted);
}

beforeAll(async () => {
  assertCostModel();
  stack = await startStack({
    proxies: PROXIES,
    proxyEnv: {
      LOG_LEVEL: 'warn',
      UPSTREAM_FIRST_BYTE_TIMEOUT_MS: String(FIRST_BYTE_TIMEOUT_MS),
      // the faults below are injected on purpose: the shared breaker must not close the only
      // channel for everyone (that is the routing suites' subject, not this one's)
      BREAKER_FAILURE_THRESHOLD: '1000000',
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

describe('budgets across 3 proxy processes', () => {
  it('admits exactly N of 500 concurrent requests against a key whose budget allows N', async () => {
    const REQUESTS = 500;
    const N = 37;
    // N whole requests fit, the (N+1)th does not: half a request's cost is left over
    const budget = C * BigInt(N) + C / 2n;
    const org = await createOrg(api, 'burst', [1]);
    const key = org.keys[0];
    const set = await putLimits(api, org.token, `/keys/${key.id}`, {
      totalBudgetUsd: formatNanoAsUsd(budget),
    });
    expect(set.totalBudgetUsd).toBe(formatNanoAsUsd(budget));

    const answers = await runBounded(REQUESTS, REQUESTS, 90_000, (i) =>
      postChat(proxyFor(i), key.secret, chatBody(), EXACT_ANSWER),
    );

    const statuses = tally(answers.map((a) => `${a.status} ${a.code ?? ''}`.trim()));
    expect(statuses).toEqual({ '200': N, '429 insufficient_quota': REQUESTS - N });
    const admittedBy = tally(answers.flatMap((a, i) => (a.status === 200 ? [i % PROXIES] : [])));
    for (const a of answers.filter((x) => x.status === 429))
      expect(a.message).toBe('You exceeded the total budget of this API key.');

    const scopes = [keyScope(org, key.id), tenantScope(org, key.tenantId), orgScope(org)];
    const states = await probe.settled(scopes);
    expectIdle(states);
    expect(await probe.openReservations(org.orgId)).toBe(0);
    const spent = states[0].total.spentNano;
    expect(spent).toBe(C * BigInt(N));
    expect(spent).toBeLessThanOrEqual(budget);
    // no more than one request's cost was refused while budget remained
    expect(budget - spent).toBeLessThan(C);

    const rows = await ledger.waitForRows(org.orgId, REQUESTS);
    expect(rows).toHaveLength(REQUESTS);
    const ok = rows.filter((r) => r.outcome === UsageOutcome.Ok);
    expect(ok).toHaveLength(N);
    for (const r of ok)
      expect({ cost: r.costNano, reserved: r.reservedCostNano }).toEqual({ cost: C, reserved: C });
    const rejected = rows.filter((r) => r.outcome === UsageOutcome.Rejected);
    expect(rejected).toHaveLength(REQUESTS - N);
    for (const r of rejected) {
      expect(r.costNano).toBe(0n);
      expect(r.errorCode).toBe('insufficient_quota');
    }
    expectCountersEqualLedger(scopes, states, rows);
    console.log(
      `[admission] burst: ${REQUESTS} requests over ${PROXIES} proxies, budget ${budget} nano = ${N}.5 requests: ` +
        `admitted ${ok.length} (per proxy ${JSON.stringify(admittedBy)}), spent ${spent} nano, left ${budget - spent} < cost ${C}`,
    );
  }, 120_000);

  it('admits exactly N of 500 concurrent requests against an organisation whose prepaid balance allows N', async () => {
    const REQUESTS = 500;
    const N = 23;
    const credit = C * BigInt(N) + C / 2n;
    // two tenants' keys draw on the one balance
    const org = await createOrg(api, 'prepaid', [1, 1]);
    const admin = (await api.login(stack.admin.email, stack.admin.password)).accessToken;
    const grant = await api.billing('POST', `/admin/orgs/${org.orgId}/credits`, {
      token: admin,
      body: { amountUsd: formatNanoAsUsd(credit), note: 'admission e2e' },
    });
    expectStatus(grant, 201, 'credit grant');

    const answers = await runBounded(REQUESTS, REQUESTS, 90_000, (i) =>
      postChat(proxyFor(i), org.keys[i % 2].secret, chatBody(), EXACT_ANSWER),
    );

    expect(tally(answers.map((a) => `${a.status} ${a.code ?? ''}`.trim()))).toEqual({
      '200': N,
      '429 insufficient_quota': REQUESTS - N,
    });
    for (const a of answers.filter((x) => x.status === 429))
      expect(a.message).toBe('You exceeded the prepaid balance of this organisation.');
    const scopes = allScopes(org);
    const states = await probe.settled(scopes);
    expectIdle(states);
    expect(await probe.openReservations(org.orgId)).toBe(0);
    const spent = states[0].total.spentNano;
    expect(spent).toBe(C * BigInt(N));
    const live = await probe.store.readBalance(org.orgId);
    expect(live).toBe(credit - spent);
    expect(live).toBeLessThan(C);

    const rows = await ledger.waitForRows(org.orgId, REQUESTS);
    expectCountersEqualLedger(scopes, states, rows);
    // billing's balance (PostgreSQL: credits minus the ledger) agrees with the live counter
    const balance = expectStatus(
      await api.billing<BalanceResponseDto>('GET', `/orgs/${org.orgId}/balance`, {
        token: org.token,
      }),
      200,
      'balance',
    );
    expect(balance).toMatchObject({
      prepaid: true,
      creditedUsd: formatNanoAsUsd(credit),
      spentUsd: formatNanoAsUsd(spent),
      balanceUsd: formatNanoAsUsd(credit - spent),
      liveBalanceUsd: formatNanoAsUsd(credit - spent),
    });
    console.log(
      `[admission] prepaid: ${REQUESTS} requests over ${PROXIES} proxies and 2 tenants, balance ${credit} nano = ${N}.5 requests: ` +
        `admitted ${N}, left ${String(live)} nano live, billing ${balance.balanceUsd} USD`,
    );
  }, 120_000);

  it('never overspends a budget when the provider counts far more prompt tokens than 4 characters per token', async () => {
    const REQUESTS = 300;
    // 400 one-letter words: the provider counts a token per word (the mock: 1 + 400), four
    // characters per token makes 203 of the 799 characters
    const messages = [
      { role: 'user' as const, content: Array.from({ length: 400 }, () => 'a').join(' ') },
    ];
    const providerPrompt = mockPromptTokens(messages);
    const heuristicPrompt = estimateChatPromptTokens({ messages });
    expect({ providerPrompt, heuristicPrompt }).toEqual({
      providerPrompt: 401,
      heuristicPrompt: 203,
    });
    const heuristicReservation = computeCostNano(
      { inputTokens: heuristicPrompt, outputTokens: WORDS },
      PRICE,
    );
    const actual = computeCostNano({ inputTokens: providerPrompt, outputTokens: WORDS }, PRICE);
    // 20.5 reservations of the four-characters-per-token estimate: with that estimate 20 requests
    // are admitted at once and settle at almost twice their reservation (the leak)
    const budget = (heuristicReservation * 41n) / 2n;
    const org = await createOrg(api, 'dense-prompt', [1]);
    const key = org.keys[0];
    await putLimits(api, org.token, `/keys/${key.id}`, { totalBudgetUsd: formatNanoAsUsd(budget) });

    // no x-mock-prompt-tokens: the mock counts the prompt itself
    const answers = await runBounded(REQUESTS, REQUESTS, 90_000, (i) =>
      postChat(proxyFor(i), key.secret, chatBody({ messages }), { 'x-mock-words': String(WORDS) }),
    );

    const statuses = tally(answers.map((a) => `${a.status} ${a.code ?? ''}`.trim()));
    const admitted = statuses['200'] ?? 0;
    expect(statuses).toEqual({ '200': admitted, '429 insufficient_quota': REQUESTS - admitted });
    expect(admitted).toBeGreaterThan(0);

    const scopes = [keyScope(org, key.id), tenantScope(org, key.tenantId), orgScope(org)];
    const states = await probe.settled(scopes);
    expectIdle(states);
    expect(await probe.openReservations(org.orgId)).toBe(0);
    const spent = states[0].total.spentNano;
    expect(spent).toBe(actual * BigInt(admitted));
    expect(spent).toBeLessThanOrEqual(budget);

    const rows = await ledger.waitForRows(org.orgId, REQUESTS);
    expect(rows).toHaveLength(REQUESTS);
    const ok = rows.filter((r) => r.outcome === UsageOutcome.Ok);
    expect(ok).toHaveLength(admitted);
    for (const r of ok) {
      expect({ input: r.inputTokens, estimated: r.tokensEstimated, cost: r.costNano }).toEqual({
        input: providerPrompt,
        estimated: false,
        cost: actual,
      });
      // the proxy reserved at least what the provider then counted
      expect(r.reservedCostNano).toBeGreaterThanOrEqual(r.costNano);
    }
    expect(ledgerSums(rows).org).toBeLessThanOrEqual(budget);
    expectCountersEqualLedger(scopes, states, rows);
    console.log(
      `[admission] dense prompt: ${REQUESTS} requests over ${PROXIES} proxies, prompt ${providerPrompt} tokens counted ` +
        `(heuristic ${heuristicPrompt}), reserved ${ok[0]?.reservedCostNano ?? 0n} nano each (heuristic ${heuristicReservation}), ` +
        `actual ${actual}; budget ${budget} nano: admitted ${admitted}, spent ${spent} nano (ledger ${ledgerSums(rows).org})`,
    );
  }, 120_000);

  type Binding = 'key' | 'tenant' | 'org';
  type Fault =
    'clean' | 'clean-stream' | 'upstream-500' | 'timeout' | 'provider-reset' | 'client-abort';

  /** One request of the chaos phase, with the fault drawn for it. */
  const chaosRequest = (
    proxyUrl: string,
    secret: string,
    fault: Fault,
  ): Promise<Answer | StreamAnswer> => {
    switch (fault) {
      case 'clean':
        return postChat(proxyUrl, secret, chatBody(), EXACT_ANSWER);
      case 'clean-stream':
        return streamChat(proxyUrl, secret, chatBody(), EXACT_ANSWER);
      case 'upstream-500':
        return postChat(proxyUrl, secret, chatBody(), {
          ...EXACT_ANSWER,
          'x-mock-fail-status': '500',
        });
      case 'timeout':
        return postChat(proxyUrl, secret, chatBody(), {
          ...EXACT_ANSWER,
          'x-mock-latency-ms': String(FIRST_BYTE_TIMEOUT_MS * 3),
        });
      case 'provider-reset':
        return streamChat(proxyUrl, secret, chatBody(), {
          ...EXACT_ANSWER,
          'x-mock-chunk-delay-ms': '20',
          'x-mock-reset-after-chunks': '3',
        });
      case 'client-abort':
        return streamChat(
          proxyUrl,
          secret,
          chatBody(),
          { ...EXACT_ANSWER, 'x-mock-chunk-delay-ms': '100' },
          { abortAfterDeltas: 2 },
        );
    }
  };

  const drawFault = (r: number): Fault =>
    r < 0.45
      ? 'clean'
      : r < 0.55
        ? 'clean-stream'
        : r < 0.7
          ? 'upstream-500'
          : r < 0.8
            ? 'timeout'
            : r < 0.9
              ? 'provider-reset'
              : 'client-abort';

  const BINDINGS: { binding: Binding; message: string; seed: number }[] = [
    { binding: 'key', message: 'You exceeded the total budget of this API key.', seed: 4101 },
    { binding: 'tenant', message: 'You exceeded the monthly budget of this tenant.', seed: 4102 },
    { binding: 'org', message: 'You exceeded the daily budget of this organisation.', seed: 4103 },
  ];

  it.each(BINDINGS)(
    'holds nested budgets ($binding binding) with upstream failures and timeouts: nothing left reserved, counters equal the ledger',
    async ({ binding, message, seed }) => {
      const CHAOS = 120;
      const CLEAN = 45;
      const tight = C * 8n + C / 2n;
      const tightUsd = formatNanoAsUsd(tight);
      // far above anything this test can spend (165 requests)
      const looseUsd = formatNanoAsUsd(C * 1000n);
      // tenant 0 holds keys 0 and 1, tenant 1 holds key 2
      const org = await createOrg(api, `nested-${binding}`, [2, 1]);
      const [k0, k1, k2] = org.keys;
      const [t0, t1] = org.tenants;
      const limits: [LimitPath, UpdateLimitsRequestDto][] =
        binding === 'key'
          ? [
              [`/keys/${k0.id}`, { totalBudgetUsd: tightUsd }],
              [`/keys/${k1.id}`, { monthlyBudgetUsd: looseUsd }],
              [`/tenants/${t0.id}`, { dailyBudgetUsd: looseUsd }],
              [`/tenants/${t1.id}`, { totalBudgetUsd: looseUsd }],
              [`/orgs/${org.orgId}`, { monthlyBudgetUsd: looseUsd }],
            ]
          : binding === 'tenant'
            ? [
                [`/tenants/${t0.id}`, { monthlyBudgetUsd: tightUsd }],
                [`/keys/${k0.id}`, { dailyBudgetUsd: looseUsd }],
                [`/keys/${k1.id}`, { totalBudgetUsd: looseUsd }],
                [`/keys/${k2.id}`, { dailyBudgetUsd: looseUsd }],
                [`/orgs/${org.orgId}`, { totalBudgetUsd: looseUsd }],
              ]
            : [
                [`/orgs/${org.orgId}`, { dailyBudgetUsd: tightUsd }],
                [`/tenants/${t0.id}`, { totalBudgetUsd: looseUsd }],
                [`/tenants/${t1.id}`, { monthlyBudgetUsd: looseUsd }],
                [`/keys/${k0.id}`, { monthlyBudgetUsd: looseUsd }],
                [`/keys/${k2.id}`, { totalBudgetUsd: looseUsd }],
              ];
      for (const [path, body] of limits) await putLimits(api, org.token, path, body);
      // the keys the tight budget applies to; the others must never be refused
      const bound = binding === 'key' ? [k0] : binding === 'tenant' ? [k0, k1] : [k0, k1, k2];
      const boundScope: AdmissionScope =
        binding === 'key'
          ? keyScope(org, k0.id)
          : binding === 'tenant'
            ? tenantScope(org, t0.id)
            : orgScope(org);
      const scopes = allScopes(org);

      // Phase 1: chaos. Faults drawn from a seeded generator, keys and proxies round-robin.
      const random = seededRandom(seed);
      const faults = Array.from({ length: CHAOS }, () => drawFault(random()));
      const keyOf = (i: number) => org.keys[Math.floor(i / PROXIES) % org.keys.length];
      const chaos = await runBounded(CHAOS, 30, 60_000, (i) =>
        chaosRequest(proxyFor(i), keyOf(i).secret, faults[i]),
      );
      const refusals = chaos.filter((a) => a.status === 429);
      for (const a of refusals)
        expect({ code: a.code, message: a.message }).toEqual({
          code: 'insufficient_quota',
          message,
        });
      chaos.forEach((a, i) => {
        if (a.status === 429) expect(bound.map((k) => k.id)).toContain(keyOf(i).id);
      });
      expectIdle(await probe.settled(scopes));

      // Phase 2: clean requests only, until the tight budget refuses. Every admitted request now
      // costs exactly its reservation, so a refusal means less than one request's cost is left.
      const clean = await runBounded(CLEAN, 15, 60_000, (i) =>
        postChat(proxyFor(i), keyOf(i).secret, chatBody(), EXACT_ANSWER),
      );
      clean.forEach((a, i) => {
        if (a.status === 429) {
          expect({ code: a.code, message: a.message }).toEqual({
            code: 'insufficient_quota',
            message,
          });
          expect(bound.map((k) => k.id)).toContain(keyOf(i).id);
        } else {
          expect({ status: a.status, code: a.code }).toEqual({ status: 200, code: null });
        }
      });
      expect(clean.filter((a) => a.status === 429).length).toBeGreaterThan(0);

      const states = await probe.settled(scopes);
      expectIdle(states);
      expect(await probe.openReservations(org.orgId)).toBe(0);
      const boundState =
        states[scopes.findIndex((s) => JSON.stringify(s) === JSON.stringify(boundScope))];
      const window =
        binding === 'key'
          ? boundState.total
          : binding === 'tenant'
            ? boundState.month
            : boundState.day;
      expect(window.spentNano).toBeLessThanOrEqual(tight);
      expect(tight - window.spentNano).toBeLessThan(C);

      const rows = await ledger.waitForRows(org.orgId, CHAOS + CLEAN);
      expect(rows).toHaveLength(CHAOS + CLEAN);
      for (const r of rows.filter((x) => x.outcome === UsageOutcome.Ok)) expect(r.costNano).toBe(C);
      expectCountersEqualLedger(scopes, states, rows);

      console.log(
        `[admission] nested (${binding} binding, seed ${seed}): faults ${JSON.stringify(tally(faults))}; ` +
          `chaos answers ${JSON.stringify(tally(chaos.map((a) => a.status)))}; clean answers ${JSON.stringify(
            tally(clean.map((a) => a.status)),
          )}; ledger outcomes ${JSON.stringify(tally(rows.map((r) => r.outcome)))}; ` +
          `bound spend ${window.spentNano} of ${tight} nano (one request ${C}); org spend ${states[0].total.spentNano} = ledger ${ledgerSums(rows).org}`,
      );
    },
    120_000,
  );
});

describe('streamed calls', () => {
  let org: TestOrg;
  let scope: AdmissionScope;

  beforeAll(async () => {
    org = await createOrg(api, 'streams', [1]);
    scope = keyScope(org, org.keys[0].id);
    await putLimits(api, org.token, `/keys/${org.keys[0].id}`, { totalBudgetUsd: '1' });
  });

  /** Runs one call and returns it with the change of the key's committed spend it caused. */
  const measured = async <T extends Answer>(
    call: () => Promise<T>,
  ): Promise<{ answer: T; spentDelta: bigint }> => {
    const before = (await probe.settled([scope]))[0].total.spentNano;
    const answer = await call();
    const after = (await probe.settled([scope]))[0].total.spentNano;
    return { answer, spentDelta: after - before };
  };

  it('cost exactly the same streamed and not streamed, and an aborted stream is billed for what the provider produced', async () => {
    const secret = org.keys[0].secret;
    const plain = await measured(() => postChat(proxyFor(0), secret, chatBody(), EXACT_ANSWER));
    const streamed = await measured(() =>
      streamChat(proxyFor(1), secret, chatBody(), EXACT_ANSWER),
    );
    const streamedWithUsage = await measured(() =>
      streamChat(
        proxyFor(2),
        secret,
        chatBody({ stream_options: { include_usage: true } }),
        EXACT_ANSWER,
      ),
    );
    // the client hangs up after 3 deltas; the provider's next one is 500 ms away
    const clientAbort = await measured(() =>
      streamChat(
        proxyFor(0),
        secret,
        chatBody(),
        { ...EXACT_ANSWER, 'x-mock-chunk-delay-ms': '500' },
        { abortAfterDeltas: 3 },
      ),
    );
    // the provider resets the connection after 3 deltas
    const providerReset = await measured(() =>
      streamChat(proxyFor(1), secret, chatBody(), {
        ...EXACT_ANSWER,
        'x-mock-chunk-delay-ms': '100',
        'x-mock-reset-after-chunks': '3',
      }),
    );

    expect(plain.answer.status).toBe(200);
    expect(streamed.answer).toMatchObject({ status: 200, done: true });
    expect(streamed.answer.deltas).toHaveLength(WORDS);
    expect(streamedWithUsage.answer).toMatchObject({ status: 200, done: true });
    expect(clientAbort.answer).toMatchObject({ status: 200, aborted: true });
    expect(clientAbort.answer.deltas).toHaveLength(3);
    expect(providerReset.answer.status).toBe(200);
    expect(providerReset.answer.done).toBe(false);
    expect(providerReset.answer.streamError).not.toBeNull();
    // what reached the proxy before the reset (the RST may overtake the last delta)
    expect(providerReset.answer.deltas.length).toBeGreaterThanOrEqual(1);
    expect(providerReset.answer.deltas.length).toBeLessThanOrEqual(3);

    const calls = [plain, streamed, streamedWithUsage, clientAbort, providerReset];
    const rows = await ledger.waitForRows(org.orgId, calls.length);
    const row = (a: Answer): LedgerRow => {
      const r = rows.find((x) => x.requestId === a.requestId);
      if (!r) throw new Error(`no ledger row for request ${String(a.requestId)}`);
      return r;
    };

    // complete calls: the provider's usage, the same cost in the ledger and in the counters
    for (const c of [plain, streamed, streamedWithUsage]) {
      expect(row(c.answer)).toMatchObject({
        outcome: UsageOutcome.Ok,
        inputTokens: PROMPT_TOKENS,
        outputTokens: WORDS,
        tokensEstimated: false,
        costNano: C,
      });
      expect(c.spentDelta).toBe(C);
    }
    expect(row(streamed.answer).stream).toBe(true);
    expect(row(plain.answer).stream).toBe(false);

    // cut streams: the proxy's estimates of the prompt and of the output produced so far (no
    // usage chunk came)
    const cut: [typeof clientAbort, UsageOutcome][] = [
      [clientAbort, UsageOutcome.ClientAborted],
      [providerReset, UsageOutcome.UpstreamError],
    ];
    for (const [c, outcome] of cut) {
      const output = estimatedOutput(c.answer.deltas);
      const cost = computeCostNano(
        { inputTokens: ESTIMATED_PROMPT_TOKENS, outputTokens: output },
        PRICE,
      );
      expect(row(c.answer)).toMatchObject({
        outcome,
        inputTokens: ESTIMATED_PROMPT_TOKENS,
        outputTokens: output,
        tokensEstimated: true,
        costNano: cost,
      });
      expect(c.spentDelta).toBe(cost);
      expect(cost).toBeGreaterThan(0n);
      expect(cost).toBeLessThan(C);
    }
    expect(await probe.openReservations(org.orgId)).toBe(0);
    console.log(
      `[admission] streams: complete calls ${C} nano each (plain, streamed, streamed with usage); ` +
        `client abort after ${clientAbort.answer.deltas.length} deltas ${clientAbort.spentDelta} nano; ` +
        `provider reset after ${providerReset.answer.deltas.length} deltas ${providerReset.spentDelta} nano`,
    );
  }, 60_000);
});
