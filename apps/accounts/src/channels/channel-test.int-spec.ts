import {
  createServer,
  type IncomingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type ChannelEventResponseDto,
  type ChannelResponseDto,
  type ChannelTestResponseDto,
  type Page,
  type ProblemDetails,
} from '@tollgate/contracts';
import { type RunningMockProvider, startMockProvider } from '@tollgate/mock-provider';
import { AuditLogEntity } from '../audit/audit-log.entity';
import {
  type AccountsTestApp,
  startAccountsTestApp,
  uniqueEmail,
} from '../testing/accounts-test-app';

const ADMIN_PASSWORD = 'admin password for tests';
const MOCK_KEY = 'sk-mock-credential-0123456789';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** A one-route stand-in for a provider format the shared mock does not serve yet. */
interface FakeProvider {
  url: string;
  seen: Seen[];
  answer: (seen: Seen, res: ServerResponse) => void;
  close(): Promise<void>;
}

async function startFakeProvider(): Promise<FakeProvider> {
  const fake: FakeProvider = {
    url: '',
    seen: [],
    answer: (_seen, res) => res.writeHead(500).end(),
    close: () => Promise.resolve(),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        body = {};
      }
      const seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      fake.seen.push(seen);
      fake.answer(seen, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake;
}

const sendJson = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

describe('channel test (int)', () => {
  let sut: AccountsTestApp;
  let adminToken: string;
  let mock: RunningMockProvider;
  let fake: FakeProvider;

  beforeAll(async () => {
    const adminEmail = uniqueEmail('admin');
    sut = await startAccountsTestApp('channel_test', {
      TOLLGATE_ADMIN_EMAIL: adminEmail,
      TOLLGATE_ADMIN_PASSWORD: ADMIN_PASSWORD,
    });
    adminToken = await sut.login(adminEmail, ADMIN_PASSWORD);
    mock = await startMockProvider({ apiKey: MOCK_KEY });
    fake = await startFakeProvider();
  });

  afterAll(async () => {
    await fake?.close();
    await mock?.stop();
    await sut?.close();
  });

  beforeEach(() => {
    fake.seen.length = 0;
  });

  const createChannel = async (body: Record<string, unknown>): Promise<ChannelResponseDto> => {
    const res = await sut.api<ChannelResponseDto>('POST', '/api/v1/admin/channels', {
      token: adminToken,
      body: { name: 'under test', apiKey: MOCK_KEY, models: ['gpt-4o-mini'], ...body },
    });
    expect(res.status).toBe(201);
    return res.body;
  };

  const runTest = (id: string, body?: Record<string, unknown>) =>
    sut.api<ChannelTestResponseDto & { code?: string }>(
      'POST',
      `/api/v1/admin/channels/${id}/test`,
      { token: adminToken, ...(body !== undefined ? { body } : {}) },
    );

  const events = async (id: string) =>
    (
      await sut.api<Page<ChannelEventResponseDto>>('GET', `/api/v1/admin/channels/${id}/events`, {
        token: adminToken,
      })
    ).body.items;

  it('sends one OpenAI request to the provider and records the result', async () => {
    const channel = await createChannel({ type: 'openai', baseUrl: mock.baseUrl });

    const res = await runTest(channel.id);

    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      ok: true,
      status: 200,
      latencyMs: expect.any(Number),
      model: 'gpt-4o-mini',
    });
    expect(res.text).not.toContain(MOCK_KEY);
    expect(await events(channel.id)).toEqual([
      {
        id: expect.any(String),
        channelId: channel.id,
        kind: 'test',
        detail: {
          ok: true,
          status: 200,
          latencyMs: res.body.latencyMs,
          model: 'gpt-4o-mini',
          upstreamModel: 'gpt-4o-mini',
          userId: expect.any(String),
        },
        createdAt: expect.any(String),
      },
    ]);
    expect(
      await sut.db
        .getRepository(AuditLogEntity)
        .countBy({ action: 'channel.tested', targetId: channel.id }),
    ).toBe(1);
    // a test is information only
    expect(
      (
        await sut.api<ChannelResponseDto>('GET', `/api/v1/admin/channels/${channel.id}`, {
          token: adminToken,
        })
      ).body.status,
    ).toBe('enabled');
  });

  it('reports a refused credential without revealing it, and leaves the channel as it was', async () => {
    const channel = await createChannel({
      type: 'openai',
      baseUrl: mock.baseUrl,
      apiKey: 'sk-wrong-credential-abcdef',
    });
    const before = (await sut.db.query(`SELECT status FROM channels WHERE id = $1`, [
      channel.id,
    ])) as unknown[];

    const res = await runTest(channel.id, {});

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: false, status: 401, model: 'gpt-4o-mini' });
    expect(res.body.error).toMatch(/API key/i);
    expect(res.text).not.toContain('sk-wrong-credential-abcdef');
    expect(await sut.db.query(`SELECT status FROM channels WHERE id = $1`, [channel.id])).toEqual(
      before,
    );
    const [event] = await events(channel.id);
    expect(event!.detail).toMatchObject({ ok: false, status: 401 });
  });

  it('removes the credential and header secrets from a provider message that echoes them', async () => {
    const channel = await createChannel({
      type: 'openai',
      baseUrl: `${fake.url}/v1`,
      apiKey: 'sk-echoed-secret-987',
      extraHeaders: { 'x-tenant-token': 'header-secret-654' },
    });
    fake.answer = (_seen, res) =>
      sendJson(res, 403, {
        error: {
          message: 'Key sk-echoed-secret-987 with header-secret-654 is not allowed',
          type: 'invalid_request_error',
          param: null,
          code: null,
        },
      });

    const res = await runTest(channel.id);

    expect(res.body).toMatchObject({ ok: false, status: 403 });
    expect(res.body.error).toBe('Key [redacted] with [redacted] is not allowed');
    expect(fake.seen[0]!.headers['x-tenant-token']).toBe('header-secret-654');
    const stored = JSON.stringify(await sut.db.query(`SELECT * FROM channel_events`));
    expect(stored).not.toContain('sk-echoed-secret-987');
    expect(stored).not.toContain('header-secret-654');
  });

  it('gives up after the channel timeout when the provider does not answer', async () => {
    const channel = await createChannel({
      type: 'openai',
      baseUrl: `${fake.url}/v1`,
      firstByteTimeoutMs: 300,
    });
    fake.answer = () => undefined; // never answers; closed with the server

    const res = await runTest(channel.id);

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: false, status: null, model: 'gpt-4o-mini' });
    expect(res.body.error).toBe('no complete answer within 300 ms');
    expect(res.body.latencyMs).toBeGreaterThanOrEqual(250);
    expect((await events(channel.id))[0]!.detail).toMatchObject({ ok: false, status: null });
  });

  it('reports a provider that cannot be reached', async () => {
    const closed = await startFakeProvider();
    await closed.close();
    const channel = await createChannel({ type: 'openai', baseUrl: `${closed.url}/v1` });

    const res = await runTest(channel.id);

    expect(res.body).toMatchObject({ ok: false, status: null });
    expect(res.body.error).toMatch(/could not be reached/);
  });

  it('speaks Anthropic Messages with x-api-key and anthropic-version', async () => {
    const channel = await createChannel({
      type: 'anthropic',
      baseUrl: fake.url,
      apiKey: 'sk-ant-test',
      models: ['claude-haiku', 'claude-sonnet'],
      modelMapping: { 'claude-sonnet': 'claude-sonnet-4-5-20250929' },
      extraHeaders: { 'anthropic-beta': 'test-beta' },
    });
    fake.answer = (_seen, res) =>
      sendJson(res, 200, {
        id: 'msg_01',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5-20250929',
        content: [{ type: 'text', text: 'pong' }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: 12, output_tokens: 2 },
      });

    const res = await runTest(channel.id, { model: 'claude-sonnet' });

    expect(res.body).toMatchObject({ ok: true, status: 200, model: 'claude-sonnet' });
    expect(fake.seen).toHaveLength(1);
    const seen = fake.seen[0]!;
    expect(seen.method).toBe('POST');
    expect(seen.url).toBe('/v1/messages');
    expect(seen.headers['x-api-key']).toBe('sk-ant-test');
    expect(seen.headers['anthropic-version']).toBe('2023-06-01');
    expect(seen.headers['anthropic-beta']).toBe('test-beta');
    expect(seen.headers.authorization).toBeUndefined();
    expect(seen.body).toMatchObject({
      model: 'claude-sonnet-4-5-20250929',
      max_tokens: 16,
      messages: [{ role: 'user', content: expect.anything() }],
    });
    expect((await events(channel.id))[0]!.detail.upstreamModel).toBe('claude-sonnet-4-5-20250929');
  });

  it('reads an Anthropic error in its own format', async () => {
    const channel = await createChannel({
      type: 'anthropic',
      baseUrl: fake.url,
      apiKey: 'sk-ant-bad',
    });
    fake.answer = (_seen, res) =>
      sendJson(res, 401, {
        type: 'error',
        error: { type: 'authentication_error', message: 'invalid x-api-key' },
      });

    const res = await runTest(channel.id);

    expect(res.body).toMatchObject({ ok: false, status: 401, error: 'invalid x-api-key' });
  });

  it('speaks Gemini generateContent with x-goog-api-key', async () => {
    const channel = await createChannel({
      type: 'gemini',
      baseUrl: fake.url,
      apiKey: 'gemini-key',
      models: ['gemini-2.5-flash'],
    });
    fake.answer = (_seen, res) =>
      sendJson(res, 200, {
        candidates: [
          {
            content: { role: 'model', parts: [{ text: 'pong' }] },
            finishReason: 'STOP',
            index: 0,
          },
        ],
        usageMetadata: { promptTokenCount: 8, candidatesTokenCount: 1, totalTokenCount: 9 },
        modelVersion: 'gemini-2.5-flash',
      });

    const res = await runTest(channel.id);

    expect(res.body).toMatchObject({ ok: true, status: 200, model: 'gemini-2.5-flash' });
    const seen = fake.seen[0]!;
    expect(seen.url).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(seen.headers['x-goog-api-key']).toBe('gemini-key');
    expect(seen.headers.authorization).toBeUndefined();
    expect(seen.body).toMatchObject({
      contents: [{ role: 'user', parts: [{ text: expect.any(String) }] }],
    });
  });

  it('speaks Azure OpenAI at the deployment URL with api-version and api-key', async () => {
    const channel = await createChannel({
      type: 'azure',
      baseUrl: fake.url,
      apiKey: 'azure-key',
      apiVersion: '2024-10-21',
      models: ['gpt-4o'],
      modelMapping: { 'gpt-4o': 'prod-4o' },
    });
    fake.answer = (_seen, res) =>
      sendJson(res, 200, {
        id: 'chatcmpl-1',
        object: 'chat.completion',
        created: 1_700_000_000,
        model: 'gpt-4o-2024-08-06',
        choices: [
          { index: 0, message: { role: 'assistant', content: 'pong' }, finish_reason: 'stop' },
        ],
        usage: { prompt_tokens: 9, completion_tokens: 1, total_tokens: 10 },
      });

    const res = await runTest(channel.id);

    expect(res.body).toMatchObject({ ok: true, status: 200, model: 'gpt-4o' });
    const seen = fake.seen[0]!;
    expect(seen.url).toBe('/openai/deployments/prod-4o/chat/completions?api-version=2024-10-21');
    expect(seen.headers['api-key']).toBe('azure-key');
    expect(seen.headers.authorization).toBeUndefined();
    expect(seen.body.messages).toEqual([{ role: 'user', content: expect.any(String) }]);
  });

  it('refuses a model the channel does not serve, and records nothing', async () => {
    const channel = await createChannel({ type: 'openai', baseUrl: mock.baseUrl });
    const before = await sut.snapshot();

    const res = await runTest(channel.id, { model: 'not-served' });
    const bad = await runTest(channel.id, { model: 42 });
    const extra = await runTest(channel.id, { model: 'gpt-4o-mini', apiKey: 'x' });

    for (const r of [res, bad, extra]) {
      expect(r.status).toBe(400);
      expect(r.headers.get('content-type')).toContain('application/problem+json');
      expect(r.body.code).toBe('validation_failed');
    }
    expect(await sut.snapshot()).toBe(before);
  });

  it('answers 404 for an unknown channel', async () => {
    const res = await sut.api<ProblemDetails>(
      'POST',
      '/api/v1/admin/channels/00000000-0000-4000-8000-000000000000/test',
      { token: adminToken },
    );

    expect(res.status).toBe(404);
    expect(res.body.code).toBe('channel_not_found');
  });
});
