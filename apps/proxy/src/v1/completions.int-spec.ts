import { UsageOutcome } from '@tollgate/contracts';
import { mockCompletionPromptTokens } from '@tollgate/mock-provider';
import OpenAI, { type APIError } from 'openai';
import { ProxyHarness, type TestKey, UPSTREAM_KEY } from '../testing/proxy-harness';

const PROMPT = 'Write a tagline for a toll gate';
const PROMPT_TOKENS = mockCompletionPromptTokens(PROMPT);

describe('POST /v1/completions', () => {
  let h: ProxyHarness;
  let key: TestKey;
  let client: OpenAI;

  beforeAll(async () => {
    h = await ProxyHarness.create('completions');
    await h.addChannel({
      models: ['instruct', 'team-instruct'],
      modelMapping: { 'team-instruct': 'instruct' },
    });
    await h.addChannel({
      name: 'azure',
      type: 'azure',
      baseUrl: h.mock.url,
      apiVersion: '2024-10-21',
      models: ['azure-instruct'],
      modelMapping: { 'azure-instruct': 'instruct-deployment' },
    });
    await h.addChannel({
      name: 'anthropic',
      type: 'anthropic',
      baseUrl: h.mock.url,
      models: ['claude-mock'],
    });
    await h.start();
    key = await h.addKey();
    client = h.client(key.secret);
  });
  afterAll(() => h.close());

  it('answers a text completion from an OpenAI channel, metered as `completions`', async () => {
    const { data, response } = await client.completions
      .create({ model: 'team-instruct', prompt: PROMPT }, { headers: { 'x-mock-words': '5' } })
      .withResponse();
    expect(data.object).toBe('text_completion');
    expect(data.model).toBe('team-instruct');
    expect(data.choices[0].text.split(' ')).toHaveLength(5);
    expect(h.mock.stats().byModel.instruct.lastPath).toBe('/v1/completions');
    expect(await h.usage(response.headers.get('x-request-id'))).toMatchObject({
      endpoint: 'completions',
      provider: 'openai',
      model: 'team-instruct',
      upstreamModel: 'instruct',
      outcome: UsageOutcome.Ok,
      inputTokens: PROMPT_TOKENS,
      outputTokens: 5,
      tokensEstimated: false,
    });
  });

  it('streams a text completion, usage shown only when asked', async () => {
    const { data: stream, response } = await client.completions
      .create(
        { model: 'instruct', prompt: PROMPT, stream: true },
        { headers: { 'x-mock-chunks': '3' } },
      )
      .withResponse();
    const chunks: OpenAI.Completion[] = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks.map((c) => c.choices[0]?.text ?? '').join('')).toBe('tollgate mock provider');
    for (const c of chunks) expect(c.usage ?? null).toBeNull();
    expect(await h.usage(response.headers.get('x-request-id'))).toMatchObject({
      stream: true,
      inputTokens: PROMPT_TOKENS,
      outputTokens: 3,
      tokensEstimated: false,
    });
  });

  it('calls an Azure deployment for a model an Azure channel serves, streamed and not', async () => {
    const res = await client.completions.create({ model: 'azure-instruct', prompt: PROMPT });
    expect(res.model).toBe('azure-instruct');
    const seen = h.mock.stats().byModel['instruct-deployment'];
    expect(seen.lastPath).toBe(
      '/openai/deployments/instruct-deployment/completions?api-version=2024-10-21',
    );
    expect(seen.lastHeaders['api-key']).toBe(UPSTREAM_KEY);
    const stream = await client.completions.create({
      model: 'azure-instruct',
      prompt: PROMPT,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.Completion[] = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks[chunks.length - 1].usage?.prompt_tokens).toBe(PROMPT_TOKENS);
  });

  it('refuses a model whose channel has no completions API, saying so', async () => {
    const err = (await client.completions
      .create({ model: 'claude-mock', prompt: PROMPT })
      .catch((e: unknown) => e)) as APIError;
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.message).toContain('no text completions API');
    expect(h.mock.stats().byModel['claude-mock']).toBeUndefined();
  });

  it('refuses a body without a prompt', async () => {
    const err = (await client.completions
      .create({ model: 'instruct' } as never)
      .catch((e: unknown) => e)) as APIError;
    expect(err.status).toBe(400);
    expect(err.param).toBe('prompt');
  });
});
