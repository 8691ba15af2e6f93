import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import type {
  MonthlyReportResponseDto,
  ProblemDetails,
  UsageRecordResponseDto,
} from '@tollgate/contracts';
import { computeCostNano, formatNanoAsUsd, parseUsdToNano } from '@tollgate/pricing';
import { waitFor } from '@tollgate/server-testing';
import { TollgateApi, expectStatus, parseCsv } from './support/api';
import { startStack, type Stack } from './support/stack';

/**
 * One metered request end to end: an organisation signs up, creates a tenant and a key, the platform
 * admin connects a channel to the mock provider and sets prices, a developer calls the proxy with the
 * official `openai` client, and every call shows up exactly once, priced, in billing's ledger and
 * monthly report. Everything goes through the public APIs of the built, running services.
 */

const CHAT_MODEL = 'gpt-4o-mini';
const EMBEDDING_MODEL = 'text-embedding-3-small';
/** a public name the channel maps to a different upstream name */
const ALIAS_MODEL = 'e2e-house-model';
const ALIAS_UPSTREAM = 'mock-upstream-e2e';

/** Prices (USD per million tokens) with digits that make the rounding visible. */
const PRICES: Record<string, { input: string; output: string }> = {
  [CHAT_MODEL]: { input: '0.15', output: '0.6' },
  [EMBEDDING_MODEL]: { input: '0.02', output: '0' },
  [ALIAS_MODEL]: { input: '0.123456789', output: '1.987654321' },
};

interface ExpectedCall {
  label: string;
  requestId: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  stream: boolean;
}

const password = 'correct-horse-battery-staple';
const uniq = randomBytes(4).toString('hex');

function expectedCostNano(model: string, inputTokens: number, outputTokens: number): bigint {
  const p = PRICES[model];
  return computeCostNano(
    { inputTokens, outputTokens },
    {
      inputNanoUsdPerMTok: parseUsdToNano(p.input),
      outputNanoUsdPerMTok: parseUsdToNano(p.output),
    },
  );
}

function expectRefused(
  res: { status: number; contentType: string; body: unknown },
  what: string,
): void {
  if (res.status !== 403 && res.status !== 404) {
    throw new Error(`${what}: expected 403 or 404, got ${res.status}: ${JSON.stringify(res.body)}`);
  }
  expect(res.contentType).toContain('application/problem+json');
  expect((res.body as ProblemDetails).status).toBe(res.status);
}

describe('a metered request, end to end', () => {
  let stack: Stack;
  let api: TollgateApi;
  let adminToken: string;
  let ownerA: { token: string; orgId: string; tenantId: string; keyId: string; key: string };
  let openai: OpenAI;
  const calls: ExpectedCall[] = [];

  beforeAll(async () => {
    stack = await startStack();
    api = new TollgateApi(stack.accountsUrl, stack.billingUrl);

    const signup = await api.signup(`owner-a-${uniq}@example.com`, password, `Org A ${uniq}`);
    const tenant = await api.createTenant(
      signup.accessToken,
      signup.organisation.id,
      'search-team',
    );
    const key = await api.createKey(signup.accessToken, tenant.id, { name: 'e2e key' });
    ownerA = {
      token: signup.accessToken,
      orgId: signup.organisation.id,
      tenantId: tenant.id,
      keyId: key.id,
      key: key.key,
    };

    adminToken = (await api.login(stack.admin.email, stack.admin.password)).accessToken;
    await api.createChannel(adminToken, {
      name: 'mock',
      type: 'openai',
      baseUrl: `${stack.mockUrl}/v1`,
      apiKey: `sk-mock-${uniq}`,
      models: [CHAT_MODEL, EMBEDDING_MODEL, ALIAS_MODEL],
      modelMapping: { [ALIAS_MODEL]: ALIAS_UPSTREAM },
    });
    for (const [model, p] of Object.entries(PRICES))
      await api.putPrice(adminToken, model, p.input, p.output);

    openai = new OpenAI({
      apiKey: ownerA.key,
      baseURL: `${stack.proxyUrl}/v1`,
      maxRetries: 0,
      timeout: 15_000,
    });
    // The channel reaches the proxy through the Redis projection and its change notification.
    await waitFor(
      async () => {
        const models = await openai.models.list();
        return models.data.some((m) => m.id === CHAT_MODEL);
      },
      { timeoutMs: 10_000, intervalMs: 100, what: 'the proxy to serve the new channel' },
    );
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  it('answers a non-streaming chat completion and reports the provider usage', async () => {
    const { data, request_id } = await openai.chat.completions
      .create({
        model: CHAT_MODEL,
        messages: [{ role: 'user', content: 'Say hello to the toll gate.' }],
      })
      .withResponse();

    expect(request_id).toBeTruthy();
    expect(data.model).toBe(CHAT_MODEL);
    expect(data.choices[0].message.content).toBeTruthy();
    expect(data.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(data.usage?.completion_tokens).toBeGreaterThan(0);
    calls.push({
      label: 'chat',
      requestId: request_id!,
      model: CHAT_MODEL,
      inputTokens: data.usage!.prompt_tokens,
      outputTokens: data.usage!.completion_tokens,
      stream: false,
    });
  });

  it('streams a chat completion with the usage chunk to a client that asked for it, and without it to one that did not', async () => {
    const messages = [{ role: 'user' as const, content: 'Stream me a short poem about bridges.' }];

    const withUsage = await openai.chat.completions
      .create({
        model: CHAT_MODEL,
        messages,
        max_tokens: 40,
        stream: true,
        stream_options: { include_usage: true },
      })
      .withResponse();
    let textWith = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of withUsage.data) {
      expect(chunk.model).toBe(CHAT_MODEL);
      textWith += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(textWith.length).toBeGreaterThan(0);
    expect(usage?.prompt_tokens).toBeGreaterThan(0);
    expect(usage?.completion_tokens).toBeGreaterThan(0);

    const withoutUsage = await openai.chat.completions
      .create({ model: CHAT_MODEL, messages, max_tokens: 40, stream: true })
      .withResponse();
    let textWithout = '';
    let chunks = 0;
    for await (const chunk of withoutUsage.data) {
      chunks++;
      expect(chunk.usage ?? null).toBeNull();
      expect(chunk.choices.length).toBeGreaterThan(0);
      textWithout += chunk.choices[0]?.delta?.content ?? '';
    }
    expect(chunks).toBeGreaterThan(1);
    // The mock answers the same request with the same text, so the twin's usage is this stream's too.
    expect(textWithout).toBe(textWith);

    calls.push(
      {
        label: 'stream with include_usage',
        requestId: withUsage.request_id!,
        model: CHAT_MODEL,
        inputTokens: usage!.prompt_tokens,
        outputTokens: usage!.completion_tokens,
        stream: true,
      },
      {
        label: 'stream without include_usage',
        requestId: withoutUsage.request_id!,
        model: CHAT_MODEL,
        inputTokens: usage!.prompt_tokens,
        outputTokens: usage!.completion_tokens,
        stream: true,
      },
    );
  });

  it('answers an embeddings call (base64, as the SDK asks by default)', async () => {
    const { data, request_id } = await openai.embeddings
      .create({
        model: EMBEDDING_MODEL,
        input: ['the quick brown fox', 'jumped over the lazy dog'],
      })
      .withResponse();
    expect(data.data).toHaveLength(2);
    expect(data.data[0].embedding.length).toBeGreaterThan(0);
    expect(data.usage.prompt_tokens).toBeGreaterThan(0);
    calls.push({
      label: 'embeddings',
      requestId: request_id!,
      model: EMBEDDING_MODEL,
      inputTokens: data.usage.prompt_tokens,
      outputTokens: 0,
      stream: false,
    });
  });

  it('sends the mapped upstream model to the provider and shows the client the name it asked for', async () => {
    const before = await mockModelsSeen(stack.mockUrl);
    const { data, request_id } = await openai.chat.completions
      .create({ model: ALIAS_MODEL, messages: [{ role: 'user', content: 'Which model are you?' }] })
      .withResponse();
    expect(data.model).toBe(ALIAS_MODEL);
    const after = await mockModelsSeen(stack.mockUrl);
    expect((after[ALIAS_UPSTREAM]?.requests ?? 0) - (before[ALIAS_UPSTREAM]?.requests ?? 0)).toBe(
      1,
    );
    expect(after[ALIAS_UPSTREAM]?.lastBody).toMatchObject({ model: ALIAS_UPSTREAM });
    expect(after[ALIAS_MODEL]).toBeUndefined();
    calls.push({
      label: 'mapped model',
      requestId: request_id!,
      model: ALIAS_MODEL,
      inputTokens: data.usage!.prompt_tokens,
      outputTokens: data.usage!.completion_tokens,
      stream: false,
    });
  });

  it('records exactly one priced ledger row per call, with the provider token counts', async () => {
    expect(calls.map((c) => c.label)).toEqual([
      'chat',
      'stream with include_usage',
      'stream without include_usage',
      'embeddings',
      'mapped model',
    ]);
    const rows = await waitFor(
      async () => {
        const all = await api.allUsage(ownerA.token, ownerA.orgId);
        return calls.every((c) => all.some((r) => r.requestId === c.requestId)) ? all : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 200, what: 'a ledger row for every call' },
    );

    // A late duplicate delivery would show up as a second row: read again after a pause.
    await new Promise((r) => setTimeout(r, 1_000));
    rows.splice(0, rows.length, ...(await api.allUsage(ownerA.token, ownerA.orgId)));

    for (const c of calls) {
      const mine = rows.filter((r) => r.requestId === c.requestId);
      expect({ call: c.label, rows: mine.length }).toEqual({ call: c.label, rows: 1 });
      const row = mine[0];
      expect({ call: c.label, ...pick(row) }).toEqual({
        call: c.label,
        tenantId: ownerA.tenantId,
        keyId: ownerA.keyId,
        model: c.model,
        stream: c.stream,
        outcome: 'ok',
        httpStatus: 200,
        inputTokens: c.inputTokens,
        outputTokens: c.outputTokens,
        priced: true,
      });
      expect({ call: c.label, costNano: parseUsdToNano(row.costUsd) }).toEqual({
        call: c.label,
        costNano: expectedCostNano(c.model, c.inputTokens, c.outputTokens),
      });
    }
    const mapped = rows.find((r) => r.requestId === calls[4].requestId)!;
    expect(mapped.upstreamModel).toBe(ALIAS_UPSTREAM);
    const plain = rows.find((r) => r.requestId === calls[0].requestId)!;
    expect(plain.upstreamModel).toBe(CHAT_MODEL);
    // The rounding must have been exercised by the odd alias price, or this test proves less than it says.
    const aliasScaled =
      BigInt(calls[4].inputTokens) * parseUsdToNano(PRICES[ALIAS_MODEL].input) +
      BigInt(calls[4].outputTokens) * parseUsdToNano(PRICES[ALIAS_MODEL].output);
    expect(aliasScaled % 1_000_000n).not.toBe(0n);
  });

  it('totals the monthly report, JSON and CSV, to the ledger', async () => {
    const rows = await api.allUsage(ownerA.token, ownerA.orgId);
    const month = rows.find((r) => r.requestId === calls[0].requestId)!.occurredAt.slice(0, 7);
    const inMonth = rows.filter((r) => r.occurredAt.slice(0, 7) === month);
    const ledgerTotal = inMonth.reduce((sum, r) => sum + parseUsdToNano(r.costUsd), 0n);
    expect(ledgerTotal).toBe(
      calls.reduce((sum, c) => sum + expectedCostNano(c.model, c.inputTokens, c.outputTokens), 0n),
    );

    const json = expectStatus(
      await api.billing<MonthlyReportResponseDto>(
        'GET',
        `/orgs/${ownerA.orgId}/reports/monthly?month=${month}`,
        {
          token: ownerA.token,
        },
      ),
      200,
      'monthly report',
    );
    expect(json.organisationId).toBe(ownerA.orgId);
    expect(json.month).toBe(month);
    expect(json.currency).toBe('USD');
    expect(parseUsdToNano(json.totalCostUsd)).toBe(ledgerTotal);
    expect(json.lines.reduce((s, l) => s + parseUsdToNano(l.costUsd), 0n)).toBe(ledgerTotal);

    const expectedLines = groupLedger(inMonth);
    const actualLines = json.lines
      .map((l) => ({
        key: `${l.tenantId}|${l.keyId}|${l.model}`,
        requests: l.requests,
        inputTokens: l.inputTokens,
        outputTokens: l.outputTokens,
        costNano: parseUsdToNano(l.costUsd),
      }))
      .sort((a, b) => a.key.localeCompare(b.key));
    expect(actualLines).toEqual(expectedLines);
    expect(json.lines.find((l) => l.model === CHAT_MODEL)?.tenantName).toBe('search-team');

    const csvRes = await api.billing(
      'GET',
      `/orgs/${ownerA.orgId}/reports/monthly?month=${month}&format=csv`,
      {
        token: ownerA.token,
        headers: { accept: 'text/csv' },
      },
    );
    expect(csvRes.status).toBe(200);
    expect(csvRes.contentType).toContain('text/csv');
    const [header, ...body] = parseCsv(csvRes.text).filter((r) => r.some((f) => f !== ''));
    const col = (name: RegExp): number => {
      const i = header.findIndex((h) => name.test(h.replace(/[^a-z]/gi, '').toLowerCase()));
      if (i < 0) throw new Error(`CSV has no column like ${String(name)}: ${header.join(',')}`);
      return i;
    };
    const [cModel, cKey, cRequests, cCost] = [
      col(/^model$/),
      col(/^keyid$/),
      col(/^requests$/),
      col(/^costusd$/),
    ];
    const dataRows = body.filter((r) => r[cModel] !== '' && /^[0-9a-f-]{36}$/i.test(r[cKey] ?? ''));
    expect(dataRows).toHaveLength(expectedLines.length);
    expect(dataRows.reduce((s, r) => s + parseUsdToNano(r[cCost]), 0n)).toBe(ledgerTotal);
    expect(dataRows.reduce((s, r) => s + Number(r[cRequests]), 0)).toBe(inMonth.length);
    expect(formatNanoAsUsd(ledgerTotal)).toBe(formatNanoAsUsd(parseUsdToNano(json.totalCostUsd)));
  });

  it('refuses a revoked key at the proxy within one second', async () => {
    const key = await api.createKey(ownerA.token, ownerA.tenantId, { name: 'to be revoked' });
    const client = new OpenAI({
      apiKey: key.key,
      baseURL: `${stack.proxyUrl}/v1`,
      maxRetries: 0,
      timeout: 5_000,
    });
    const ask = () =>
      client.chat.completions.create({
        model: CHAT_MODEL,
        messages: [{ role: 'user', content: 'hi' }],
      });
    // Warm the proxy's in-process key cache first: revocation must get through it.
    await expect(ask()).resolves.toMatchObject({ model: CHAT_MODEL });

    await api.revokeKey(ownerA.token, key.id);
    const revokedAt = Date.now();
    let refusal: unknown;
    for (let i = 0; i < 40 && Date.now() - revokedAt <= 1_000; i++) {
      try {
        await ask();
        await new Promise((r) => setTimeout(r, 25));
      } catch (e) {
        refusal = e;
        break;
      }
    }
    const elapsed = Date.now() - revokedAt;
    expect(refusal).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(elapsed).toBeLessThanOrEqual(1_000);
    expect((refusal as InstanceType<typeof OpenAI.AuthenticationError>).status).toBe(401);
    // and it stays refused
    await expect(ask()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it('keeps platform administration to the platform admin', async () => {
    const channel = await api.accounts('POST', '/admin/channels', {
      token: ownerA.token,
      body: {
        name: 'sneaky',
        type: 'openai',
        baseUrl: `${stack.mockUrl}/v1`,
        apiKey: 'sk-x',
        models: [CHAT_MODEL],
      },
    });
    expect(channel.status).toBe(403);
    expect(channel.contentType).toContain('application/problem+json');
    const price = await api.billing('PUT', `/admin/prices/${CHAT_MODEL}`, {
      token: ownerA.token,
      body: { inputUsdPerMTok: '0', outputUsdPerMTok: '0' },
    });
    expect(price.status).toBe(403);
    expect(price.contentType).toContain('application/problem+json');
  });

  describe('across organisations', () => {
    let ownerB: { token: string; orgId: string };

    beforeAll(async () => {
      const b = await api.signup(`owner-b-${uniq}@example.com`, password, `Org B ${uniq}`);
      ownerB = { token: b.accessToken, orgId: b.organisation.id };
      await api.createTenant(b.accessToken, b.organisation.id, 'b-team');
    });

    it("does not let org B's owner read org A's tenants or keys", async () => {
      expectRefused(
        await api.accounts('GET', `/orgs/${ownerA.orgId}/tenants`, { token: ownerB.token }),
        'list A tenants',
      );
      expectRefused(
        await api.accounts('GET', `/tenants/${ownerA.tenantId}/keys`, { token: ownerB.token }),
        'list A keys',
      );
    });

    it("does not let org B's owner create tenants or keys in org A", async () => {
      const before = expectStatus(
        await api.accounts<{ items: unknown[] }>('GET', `/orgs/${ownerA.orgId}/tenants`, {
          token: ownerA.token,
        }),
        200,
        'list A tenants as A',
      ).items.length;
      expectRefused(
        await api.accounts('POST', `/orgs/${ownerA.orgId}/tenants`, {
          token: ownerB.token,
          body: { name: 'intruder' },
        }),
        'create tenant in A',
      );
      expectRefused(
        await api.accounts('POST', `/tenants/${ownerA.tenantId}/keys`, {
          token: ownerB.token,
          body: { name: 'intruder' },
        }),
        'create key in A',
      );
      const after = expectStatus(
        await api.accounts<{ items: unknown[] }>('GET', `/orgs/${ownerA.orgId}/tenants`, {
          token: ownerA.token,
        }),
        200,
        'list A tenants as A',
      ).items.length;
      expect(after).toBe(before);
    });

    it("does not let org B's owner revoke org A's key", async () => {
      expectRefused(
        await api.accounts('DELETE', `/keys/${ownerA.keyId}`, { token: ownerB.token }),
        'revoke A key',
      );
      // A's key still works at the proxy.
      await expect(
        openai.chat.completions.create({
          model: CHAT_MODEL,
          messages: [{ role: 'user', content: 'still here?' }],
        }),
      ).resolves.toMatchObject({ model: CHAT_MODEL });
    });

    it("does not let org B's owner read org A's usage or report", async () => {
      const month = new Date().toISOString().slice(0, 7);
      expectRefused(
        await api.billing('GET', `/orgs/${ownerA.orgId}/usage`, { token: ownerB.token }),
        'A usage',
      );
      expectRefused(
        await api.billing('GET', `/orgs/${ownerA.orgId}/reports/monthly?month=${month}`, {
          token: ownerB.token,
        }),
        'A report',
      );
      expectRefused(
        await api.billing(
          'GET',
          `/orgs/${ownerA.orgId}/reports/monthly?month=${month}&format=csv`,
          { token: ownerB.token },
        ),
        'A CSV report',
      );
      // and B's own usage holds none of A's calls
      const bUsage = await api.allUsage(ownerB.token, ownerB.orgId);
      expect(bUsage).toEqual([]);
    });
  });
});

function pick(r: UsageRecordResponseDto) {
  return {
    tenantId: r.tenantId,
    keyId: r.keyId,
    model: r.model,
    stream: r.stream,
    outcome: r.outcome,
    httpStatus: r.httpStatus,
    inputTokens: r.inputTokens,
    outputTokens: r.outputTokens,
    priced: r.priced,
  };
}

function groupLedger(rows: UsageRecordResponseDto[]) {
  const lines = new Map<
    string,
    { key: string; requests: number; inputTokens: number; outputTokens: number; costNano: bigint }
  >();
  for (const r of rows) {
    const key = `${r.tenantId}|${r.keyId}|${r.model}`;
    const l = lines.get(key) ?? { key, requests: 0, inputTokens: 0, outputTokens: 0, costNano: 0n };
    l.requests++;
    l.inputTokens += r.inputTokens;
    l.outputTokens += r.outputTokens;
    l.costNano += parseUsdToNano(r.costUsd);
    lines.set(key, l);
  }
  return [...lines.values()].sort((a, b) => a.key.localeCompare(b.key));
}

/** What the mock provider has seen, per model name it received (its `GET /__stats`). */
async function mockModelsSeen(
  mockUrl: string,
): Promise<Record<string, { requests: number; lastBody: unknown }>> {
  const res = await fetch(`${mockUrl}/__stats`);
  expect(res.status).toBe(200);
  const stats = (await res.json()) as {
    byModel?: Record<string, { requests: number; lastBody: unknown }>;
  };
  return stats.byModel ?? {};
}
