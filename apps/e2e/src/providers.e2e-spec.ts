import { randomBytes } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import type { UsageRecordResponseDto } from '@tollgate/contracts';
import {
  mockAnswer,
  mockAnthropicPromptTokens,
  mockCompletionPromptTokens,
  mockGeminiPromptTokens,
  mockPromptTokens,
  mockToolArguments,
  mockToolCallTokens,
} from '@tollgate/mock-provider';
import { computeCostNano, parseUsdToNano } from '@tollgate/pricing';
import { waitFor } from '@tollgate/server-testing';
import OpenAI from 'openai';
import { TollgateApi } from './support/api';
import { createProviderChannel, MockControl, type MockModelSeen } from './support/providers';
import { startStack, type Stack } from './support/stack';

/**
 * Providers and routing, end to end: one channel per provider wire format (OpenAI, Azure OpenAI,
 * Anthropic Messages, Gemini generateContent), all served by the one mock provider, each under its
 * own public model name mapped to a different upstream name. The official `openai` client (chat
 * completions, streamed and not, with a tool round trip; legacy completions) and the official
 * `@anthropic-ai/sdk` client (Tollgate's `/v1/messages`, streamed and not, with a tool_use round
 * trip) go through the built proxy to every format. Each answer is checked against what the mock
 * deterministically produces, each upstream request against the provider's own format, and every
 * call must show up as exactly one priced ledger row with the provider's token counts.
 */

type Surface = 'openai' | 'azure' | 'anthropic' | 'gemini';

interface Provider {
  surface: Surface;
  /** the public model name clients ask for */
  model: string;
  /** the upstream name (Azure: the deployment) the channel maps it to */
  upstream: string;
}

const AZURE_API_VERSION = '2024-10-21';
const PROVIDERS: Provider[] = [
  { surface: 'openai', model: 'e2e-openai', upstream: 'mock-openai-upstream' },
  { surface: 'azure', model: 'e2e-azure', upstream: 'mock-azure-deployment' },
  { surface: 'anthropic', model: 'e2e-claude', upstream: 'mock-claude-upstream' },
  { surface: 'gemini', model: 'e2e-gemini', upstream: 'mock-gemini-upstream' },
];
const byModel = new Map(PROVIDERS.map((p) => [p.model, p]));
const UNKNOWN_MODEL = 'e2e-no-such-model';

/** The mock's answer sizes, set once for the whole run (distinct, so a mix-up shows). */
const WORDS = 7;
const CHUNKS = 5;
/** prompt tokens the mock reports as cache reads, where a test asks for them */
const CACHED = 3;

/** USD per million tokens, one price per public model (odd digits make rounding visible). */
const PRICES: Record<string, { input: string; output: string }> = {
  'e2e-openai': { input: '0.15', output: '0.6' },
  'e2e-azure': { input: '0.2', output: '0.8' },
  'e2e-claude': { input: '3.000000001', output: '15' },
  'e2e-gemini': { input: '0.075', output: '0.3' },
};

const SYSTEM = 'You are terse.';
const QUESTION = 'Tell me three short things about toll gates';
const WEATHER_QUESTION = 'What is the weather in Paris for the next days?';
const WEATHER_RESULT = '{"temperature":21,"sky":"clear"}';
const WEATHER_SCHEMA = {
  type: 'object' as const,
  properties: { city: { type: 'string' }, days: { type: 'integer' } },
  required: ['city'],
};
/** What the mock calls the tool with, and the output tokens it reports for that call. */
const WEATHER_ARGS = mockToolArguments(WEATHER_SCHEMA);
const TOOL_CALL_TOKENS = mockToolCallTokens(JSON.stringify(WEATHER_ARGS));

const OPENAI_TOOL: OpenAI.Chat.ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The weather of a city',
    parameters: WEATHER_SCHEMA,
  },
};
const ANTHROPIC_TOOL: Anthropic.Tool = {
  name: 'get_weather',
  description: 'The weather of a city',
  input_schema: WEATHER_SCHEMA,
};

type Endpoint = 'chat.completions' | 'messages' | 'completions';

interface ExpectedRow {
  label: string;
  requestId: string;
  model: string;
  upstreamModel: string;
  endpoint: Endpoint;
  stream: boolean;
  inputTokens: number;
  outputTokens: number;
  /** the part of inputTokens read from the provider's prompt cache; 0 when absent */
  cachedInputTokens?: number;
}

/** A call that failed: it is metered too, as one row costing nothing. */
interface ExpectedFailure {
  label: string;
  requestId: string;
  model: string;
  endpoint: Endpoint;
  /** the outcomes the row may have (more than one only where a known bug is reported) */
  outcome: readonly ('upstream_error' | 'rejected')[];
  httpStatus: number;
}

const password = 'correct-horse-battery-staple';
const uniq = randomBytes(4).toString('hex');

/** The prompt tokens the mock reported for the request body it received, by wire format. */
function providerPromptTokens(surface: Surface, body: unknown): number {
  const b = body as Record<string, unknown>;
  switch (surface) {
    case 'openai':
    case 'azure':
      return mockPromptTokens(b.messages);
    case 'anthropic':
      return mockAnthropicPromptTokens(b);
    case 'gemini':
      return mockGeminiPromptTokens(b);
  }
}

/** The path (and query) the provider's real API is called on. */
function providerPath(p: Provider, stream: boolean): string {
  switch (p.surface) {
    case 'openai':
      return '/v1/chat/completions';
    case 'azure':
      return `/openai/deployments/${p.upstream}/chat/completions?api-version=${AZURE_API_VERSION}`;
    case 'anthropic':
      return '/v1/messages';
    case 'gemini':
      return stream
        ? `/v1beta/models/${p.upstream}:streamGenerateContent?alt=sse`
        : `/v1beta/models/${p.upstream}:generateContent`;
  }
}

/** The channel credential, in the header the provider reads it from. */
function providerCredential(p: Provider, seen: MockModelSeen): string | undefined {
  const h = seen.lastHeaders;
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  switch (p.surface) {
    case 'openai':
      return one(h.authorization)?.replace(/^Bearer\s+/i, '');
    case 'azure':
      return one(h['api-key']);
    case 'anthropic':
      return one(h['x-api-key']);
    case 'gemini':
      return one(h['x-goog-api-key']);
  }
}

const channelKey = (p: Provider) => `sk-${p.surface}-${uniq}`;

/** The tool result, as the mock received it in the provider's own format (the last turn). */
function toolResultSent(p: Provider, body: unknown): unknown {
  const b = body as {
    messages?: { role: string; tool_call_id?: string; content?: unknown }[];
    contents?: { role?: string; parts: Record<string, unknown>[] }[];
  };
  switch (p.surface) {
    case 'openai':
    case 'azure': {
      const last = b.messages?.[b.messages.length - 1];
      return { role: last?.role, id: last?.tool_call_id };
    }
    case 'anthropic': {
      const last = b.messages?.[b.messages.length - 1];
      const block = Array.isArray(last?.content)
        ? (last.content as { type: string; tool_use_id?: string }[]).find(
            (c) => c.type === 'tool_result',
          )
        : undefined;
      return { role: last?.role, id: block?.tool_use_id };
    }
    case 'gemini': {
      const last = b.contents?.[b.contents.length - 1];
      const part = last?.parts.find((x) => x.functionResponse !== undefined) as
        { functionResponse: { name?: string } } | undefined;
      return { role: last?.role, id: part?.functionResponse.name };
    }
  }
}

/**
 * How the tool result must reach each provider: OpenAI/Azure a `tool` message with the call's id,
 * Anthropic a user `tool_result` block with the tool_use id, Gemini a `functionResponse` part
 * naming the function (Gemini's calls have no ids).
 */
function toolResultExpected(p: Provider, callId: string): unknown {
  switch (p.surface) {
    case 'openai':
    case 'azure':
      return { role: 'tool', id: callId };
    case 'anthropic':
      return { role: 'user', id: callId };
    case 'gemini':
      return { role: expect.stringMatching(/^(user|function)$/), id: 'get_weather' };
  }
}

describe('providers and routing, end to end through every provider format', () => {
  let stack: Stack;
  let api: TollgateApi;
  let mock: MockControl;
  let owner: { token: string; orgId: string; tenantId: string; keyId: string; key: string };
  let openai: OpenAI;
  let anthropic: Anthropic;
  const rows: ExpectedRow[] = [];
  const failures: ExpectedFailure[] = [];

  /**
   * Runs one client call and checks the upstream side: exactly one request reached the mock under
   * the mapped name, on the provider's own path, with the channel's credential and extra header.
   * Returns the call's result and the prompt tokens the mock reported for the body it received.
   */
  async function throughProvider<T>(
    p: Provider,
    stream: boolean,
    what: string,
    call: () => Promise<T>,
  ): Promise<{ result: T; seen: MockModelSeen; prompt: number }> {
    const before = await mock.requestsFor(p.upstream);
    const result = await call();
    const seen = await mock.oneMoreRequest(p.upstream, before, `${p.model} ${what}`);
    expect({ what, path: seen.lastPath }).toEqual({ what, path: providerPath(p, stream) });
    expect({ what, credential: providerCredential(p, seen) }).toEqual({
      what,
      credential: channelKey(p),
    });
    expect({ what, extra: seen.lastHeaders['x-e2e-channel'] }).toEqual({ what, extra: p.surface });
    // the caller's Tollgate key never travels on to the provider, in any header
    const leaked = Object.entries(seen.lastHeaders)
      .filter(([, v]) => [v ?? ''].flat().some((x) => x.includes(owner.key)))
      .map(([name]) => name);
    expect({ what, leaked }).toEqual({ what, leaked: [] });
    // nothing of the public name leaks upstream: the mock never heard of it
    expect((await mock.byModel())[p.model]).toBeUndefined();
    return { result, seen, prompt: providerPromptTokens(p.surface, seen.lastBody) };
  }

  beforeAll(async () => {
    stack = await startStack();
    api = new TollgateApi(stack.accountsUrl, stack.billingUrl);
    mock = new MockControl(stack.mockUrl);
    await mock.configure({ words: WORDS, chunks: CHUNKS });

    const signup = await api.signup(`providers-${uniq}@example.com`, password, `Providers ${uniq}`);
    const tenant = await api.createTenant(signup.accessToken, signup.organisation.id, 'agents');
    const key = await api.createKey(signup.accessToken, tenant.id, { name: 'providers e2e' });
    owner = {
      token: signup.accessToken,
      orgId: signup.organisation.id,
      tenantId: tenant.id,
      keyId: key.id,
      key: key.key,
    };

    const adminToken = (await api.login(stack.admin.email, stack.admin.password)).accessToken;
    for (const p of PROVIDERS) {
      const channel = await createProviderChannel(api, adminToken, {
        name: `mock ${p.surface}`,
        type: p.surface,
        // OpenAI-compatible channels name the API root; the others the provider's origin
        baseUrl: p.surface === 'openai' ? `${stack.mockUrl}/v1` : stack.mockUrl,
        apiKey: channelKey(p),
        models: [p.model],
        modelMapping: { [p.model]: p.upstream },
        extraHeaders: { 'x-e2e-channel': p.surface },
        ...(p.surface === 'azure' ? { apiVersion: AZURE_API_VERSION } : {}),
      });
      expect(channel).toMatchObject({ type: p.surface, models: [p.model], status: 'enabled' });
    }
    for (const [model, price] of Object.entries(PRICES))
      await api.putPrice(adminToken, model, price.input, price.output);

    openai = new OpenAI({
      apiKey: owner.key,
      baseURL: `${stack.proxyUrl}/v1`,
      maxRetries: 0,
      timeout: 15_000,
    });
    anthropic = new Anthropic({
      apiKey: owner.key,
      baseURL: stack.proxyUrl,
      maxRetries: 0,
      timeout: 15_000,
    });
    // The channels reach the proxy through the Redis projection and its change notification.
    await waitFor(
      async () => {
        const models = await openai.models.list();
        return PROVIDERS.every((p) => models.data.some((m) => m.id === p.model));
      },
      { timeoutMs: 10_000, intervalMs: 100, what: 'the proxy to serve the four channels' },
    );
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  describe.each(PROVIDERS.map((p) => [p.surface, p] as const))('a %s channel', (_surface, p) => {
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
      { role: 'system', content: SYSTEM },
      { role: 'user', content: QUESTION },
    ];

    it('answers the openai client, not streamed and streamed (with and without include_usage)', async () => {
      const plain = await throughProvider(p, false, 'chat', () =>
        openai.chat.completions.create({ model: p.model, messages }).withResponse(),
      );
      const { data } = plain.result;
      expect(data.object).toBe('chat.completion');
      expect(data.model).toBe(p.model);
      expect(data.choices).toHaveLength(1);
      expect(data.choices[0].finish_reason).toBe('stop');
      expect(data.choices[0].message).toMatchObject({
        role: 'assistant',
        content: mockAnswer(WORDS),
      });
      expect(data.usage).toMatchObject({
        prompt_tokens: plain.prompt,
        completion_tokens: WORDS,
        total_tokens: plain.prompt + WORDS,
      });
      rows.push({
        label: `${p.model} openai chat`,
        requestId: requestIdOf(plain.result.response),
        model: p.model,
        upstreamModel: p.upstream,
        endpoint: 'chat.completions',
        stream: false,
        inputTokens: plain.prompt,
        outputTokens: WORDS,
      });

      const streamed = await throughProvider(p, true, 'chat stream', async () => {
        const { data: stream, response } = await openai.chat.completions
          .create({
            model: p.model,
            messages,
            max_tokens: 64,
            stream: true,
            stream_options: { include_usage: true },
          })
          .withResponse();
        let text = '';
        let finish: string | null = null;
        let usage: OpenAI.CompletionUsage | null | undefined;
        let chunks = 0;
        let afterUsage = 0;
        for await (const chunk of stream) {
          chunks++;
          if (usage) afterUsage++;
          expect(chunk.object).toBe('chat.completion.chunk');
          expect(chunk.model).toBe(p.model);
          text += chunk.choices[0]?.delta?.content ?? '';
          finish = chunk.choices[0]?.finish_reason ?? finish;
          if (chunk.usage) usage = chunk.usage;
        }
        return { response, text, finish, usage, chunks, afterUsage };
      });
      const s = streamed.result;
      expect(s.text).toBe(mockAnswer(CHUNKS));
      expect(s.finish).toBe('stop');
      expect(s.chunks).toBeGreaterThan(CHUNKS);
      // the usage chunk is the last one, as OpenAI sends it
      expect(s.afterUsage).toBe(0);
      expect(s.usage).toMatchObject({
        prompt_tokens: streamed.prompt,
        completion_tokens: CHUNKS,
        total_tokens: streamed.prompt + CHUNKS,
      });
      rows.push({
        label: `${p.model} openai chat stream`,
        requestId: requestIdOf(s.response),
        model: p.model,
        upstreamModel: p.upstream,
        endpoint: 'chat.completions',
        stream: true,
        inputTokens: streamed.prompt,
        outputTokens: CHUNKS,
      });

      // a client that did not ask for usage sees none, and the call is metered all the same
      const quiet = await throughProvider(p, true, 'chat stream without usage', async () => {
        const { data: stream, response } = await openai.chat.completions
          .create({ model: p.model, messages, stream: true })
          .withResponse();
        let text = '';
        let withUsage = 0;
        for await (const chunk of stream) {
          if (chunk.usage) withUsage++;
          expect(chunk.choices).toHaveLength(1);
          text += chunk.choices[0].delta?.content ?? '';
        }
        return { response, text, withUsage };
      });
      expect(quiet.result.text).toBe(mockAnswer(CHUNKS));
      expect(quiet.result.withUsage).toBe(0);
      expect(quiet.prompt).toBe(streamed.prompt);
      rows.push({
        label: `${p.model} openai chat stream without usage`,
        requestId: requestIdOf(quiet.result.response),
        model: p.model,
        upstreamModel: p.upstream,
        endpoint: 'chat.completions',
        stream: true,
        inputTokens: quiet.prompt,
        outputTokens: CHUNKS,
      });
    });

    it('round-trips a tool call with the openai client, streamed and not', async () => {
      const ask: OpenAI.Chat.ChatCompletionMessageParam[] = [
        { role: 'system', content: SYSTEM },
        { role: 'user', content: WEATHER_QUESTION },
      ];

      // 1. not streamed: the model calls the tool
      const first = await throughProvider(p, false, 'tool call', () =>
        openai.chat.completions
          .create({ model: p.model, messages: ask, tools: [OPENAI_TOOL] })
          .withResponse(),
      );
      const choice = first.result.data.choices[0];
      expect(choice.finish_reason).toBe('tool_calls');
      expect(choice.message.tool_calls).toHaveLength(1);
      const call = choice.message.tool_calls![0];
      if (call.type !== 'function') throw new Error(`expected a function call, got ${call.type}`);
      expect(call.id).toBeTruthy();
      expect(call.function.name).toBe('get_weather');
      expect(JSON.parse(call.function.arguments)).toEqual(WEATHER_ARGS);
      expect(first.result.data.usage).toMatchObject({
        prompt_tokens: first.prompt,
        completion_tokens: TOOL_CALL_TOKENS,
      });
      rows.push({
        label: `${p.model} openai tool call`,
        requestId: requestIdOf(first.result.response),
        model: p.model,
        upstreamModel: p.upstream,
        endpoint: 'chat.completions',
        stream: false,
        inputTokens: first.prompt,
        outputTokens: TOOL_CALL_TOKENS,
      });

      // 2. streamed: the same call, its arguments in pieces
      const second = await throughProvider(p, true, 'tool call stream', async () => {
        const { data: stream, response } = await openai.chat.completions
          .create({
            model: p.model,
            messages: ask,
            tools: [OPENAI_TOOL],
            stream: true,
            stream_options: { include_usage: true },
          })
          .withResponse();
        const calls = new Map<number, { id: string; name: string; args: string }>();
        let finish: string | null = null;
        let usage: OpenAI.CompletionUsage | null | undefined;
        for await (const chunk of stream) {
          for (const tc of chunk.choices[0]?.delta?.tool_calls ?? []) {
            const c = calls.get(tc.index) ?? { id: '', name: '', args: '' };
            c.id += tc.id ?? '';
            c.name += tc.function?.name ?? '';
            c.args += tc.function?.arguments ?? '';
            calls.set(tc.index, c);
          }
          finish = chunk.choices[0]?.finish_reason ?? finish;
          if (chunk.usage) usage = chunk.usage;
        }
        return { response, calls: [...calls.values()], finish, usage };
      });
      expect(second.result.finish).toBe('tool_calls');
      expect(second.result.calls).toHaveLength(1);
      expect(second.result.calls[0].id).toBeTruthy();
      expect(second.result.calls[0].name).toBe('get_weather');
      expect(JSON.parse(second.result.calls[0].args)).toEqual(WEATHER_ARGS);
      expect(second.result.usage).toMatchObject({
        prompt_tokens: second.prompt,
        completion_tokens: TOOL_CALL_TOKENS,
      });
      rows.push({
        label: `${p.model} openai tool call stream`,
        requestId: requestIdOf(second.result.response),
        model: p.model,
        upstreamModel: p.upstream,
        endpoint: 'chat.completions',
        stream: true,
        inputTokens: second.prompt,
        outputTokens: TOOL_CALL_TOKENS,
      });

      // 3. the tool's result goes back; the model answers in words
      const third = await throughProvider(p, false, 'tool result', () =>
        openai.chat.completions
          .create({
            model: p.model,
            tools: [OPENAI_TOOL],
            messages: [
              ...ask,
              { role: 'assistant', content: null, tool_calls: [call] },
              { role: 'tool', tool_call_id: call.id, content: WEATHER_RESULT },
            ],
          })
          .withResponse(),
      );
      expect(third.result.data.choices[0].finish_reason).toBe('stop');
      expect(third.result.data.choices[0].message.content).toBe(mockAnswer(WORDS));
      expect(third.result.data.usage).toMatchObject({
        prompt_tokens: third.prompt,
        completion_tokens: WORDS,
      });
      expect(toolResultSent(p, third.seen.lastBody)).toEqual(toolResultExpected(p, call.id));
      rows.push({
        label: `${p.model} openai tool result`,
        requestId: requestIdOf(third.result.response),
        model: p.model,
        upstreamModel: p.upstream,
        endpoint: 'chat.completions',
        stream: false,
        inputTokens: third.prompt,
        outputTokens: WORDS,
      });
    });

    const params = {
      model: p.model,
      max_tokens: 256,
      system: SYSTEM,
      messages: [{ role: 'user' as const, content: QUESTION }],
    };

    it('answers the Anthropic client on /v1/messages, not streamed and streamed', async () => {
      const plain = await throughProvider(p, false, 'message', () =>
        anthropic.messages.create(params).withResponse(),
      );
      const msg = plain.result.data;
      expect(msg.type).toBe('message');
      expect(msg.role).toBe('assistant');
      expect(msg.model).toBe(p.model);
      expect(msg.stop_reason).toBe('end_turn');
      expect(msg.content).toHaveLength(1);
      expect(msg.content[0]).toMatchObject({ type: 'text', text: mockAnswer(WORDS) });
      expect(msg.usage).toMatchObject({ input_tokens: plain.prompt, output_tokens: WORDS });
      rows.push({
        label: `${p.model} anthropic message`,
        requestId: requestIdOf(plain.result.response),
        model: p.model,
        upstreamModel: p.upstream,
        endpoint: 'messages',
        stream: false,
        inputTokens: plain.prompt,
        outputTokens: WORDS,
      });

      const streamed = await throughProvider(p, true, 'message stream', async () => {
        const stream = anthropic.messages.stream(params);
        const events: string[] = [];
        stream.on('streamEvent', (e) => events.push(e.type));
        const final = await stream.finalMessage();
        const { response } = await stream.withResponse();
        return { final, events, response };
      });
      const { final, events } = streamed.result;
      expect(events[0]).toBe('message_start');
      expect(events.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
      expect(events.filter((e) => e === 'content_block_delta')).toHaveLength(CHUNKS);
      expect(final.model).toBe(p.model);
      expect(final.stop_reason).toBe('end_turn');
      expect(final.content).toHaveLength(1);
      expect(final.content[0]).toMatchObject({ type: 'text', text: mockAnswer(CHUNKS) });
      expect(final.usage).toMatchObject({ input_tokens: streamed.prompt, output_tokens: CHUNKS });
      rows.push({
        label: `${p.model} anthropic message stream`,
        requestId: requestIdOf(streamed.result.response),
        model: p.model,
        upstreamModel: p.upstream,
        endpoint: 'messages',
        stream: true,
        inputTokens: streamed.prompt,
        outputTokens: CHUNKS,
      });
    });

    it('round-trips a tool_use with the Anthropic client, streamed and not', async () => {
      const ask = {
        ...params,
        tools: [ANTHROPIC_TOOL],
        messages: [{ role: 'user' as const, content: WEATHER_QUESTION }],
      };

      // 1. not streamed: a tool_use block
      const first = await throughProvider(p, false, 'tool_use', () =>
        anthropic.messages.create(ask).withResponse(),
      );
      const msg = first.result.data;
      expect(msg.stop_reason).toBe('tool_use');
      const uses = msg.content.filter((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
      expect(uses).toHaveLength(1);
      expect(uses[0].id).toBeTruthy();
      expect(uses[0]).toMatchObject({ name: 'get_weather', input: WEATHER_ARGS });
      expect(msg.usage).toMatchObject({
        input_tokens: first.prompt,
        output_tokens: TOOL_CALL_TOKENS,
      });
      rows.push({
        label: `${p.model} anthropic tool_use`,
        requestId: requestIdOf(first.result.response),
        model: p.model,
        upstreamModel: p.upstream,
        endpoint: 'messages',
        stream: false,
        inputTokens: first.prompt,
        outputTokens: TOOL_CALL_TOKENS,
      });

      // 2. streamed: the tool_use block from input_json_delta pieces
      const second = await throughProvider(p, true, 'tool_use stream', async () => {
        const stream = anthropic.messages.stream(ask);
        const final = await stream.finalMessage();
        const { response } = await stream.withResponse();
        return { final, response };
      });
      expect(second.result.final.stop_reason).toBe('tool_use');
      const streamedUses = second.result.final.content.filter(
        (b): b is Anthropic.ToolUseBlock => b.type === 'tool_use',
      );
      expect(streamedUses).toHaveLength(1);
      expect(streamedUses[0]).toMatchObject({ name: 'get_weather', input: WEATHER_ARGS });
      expect(second.result.final.usage).toMatchObject({
        input_tokens: second.prompt,
        output_tokens: TOOL_CALL_TOKENS,
      });
      rows.push({
        label: `${p.model} anthropic tool_use stream`,
        requestId: requestIdOf(second.result.response),
        model: p.model,
        upstreamModel: p.upstream,
        endpoint: 'messages',
        stream: true,
        inputTokens: second.prompt,
        outputTokens: TOOL_CALL_TOKENS,
      });

      // 3. the tool_result goes back, streamed; the model answers in words
      const third = await throughProvider(p, true, 'tool_result stream', async () => {
        const stream = anthropic.messages.stream({
          ...ask,
          messages: [
            ...ask.messages,
            { role: 'assistant', content: msg.content },
            {
              role: 'user',
              content: [{ type: 'tool_result', tool_use_id: uses[0].id, content: WEATHER_RESULT }],
            },
          ],
        });
        const final = await stream.finalMessage();
        const { response } = await stream.withResponse();
        return { final, response };
      });
      expect(third.result.final.stop_reason).toBe('end_turn');
      expect(third.result.final.content).toHaveLength(1);
      expect(third.result.final.content[0]).toMatchObject({
        type: 'text',
        text: mockAnswer(CHUNKS),
      });
      expect(third.result.final.usage).toMatchObject({
        input_tokens: third.prompt,
        output_tokens: CHUNKS,
      });
      expect(toolResultSent(p, third.seen.lastBody)).toEqual(toolResultExpected(p, uses[0].id));
      rows.push({
        label: `${p.model} anthropic tool_result stream`,
        requestId: requestIdOf(third.result.response),
        model: p.model,
        upstreamModel: p.upstream,
        endpoint: 'messages',
        stream: true,
        inputTokens: third.prompt,
        outputTokens: CHUNKS,
      });
    });
    it("reports the provider's prompt-cache tokens to both clients and to the ledger", async () => {
      await mock.configure({ models: { [p.upstream]: { cached_tokens: CACHED } } });
      try {
        const plain = await throughProvider(p, false, 'cached chat', () =>
          openai.chat.completions.create({ model: p.model, messages }).withResponse(),
        );
        expect(plain.result.data.usage).toMatchObject({
          prompt_tokens: plain.prompt,
          completion_tokens: WORDS,
          prompt_tokens_details: { cached_tokens: CACHED },
        });
        rows.push({
          label: `${p.model} openai cached chat`,
          requestId: requestIdOf(plain.result.response),
          model: p.model,
          upstreamModel: p.upstream,
          endpoint: 'chat.completions',
          stream: false,
          inputTokens: plain.prompt,
          outputTokens: WORDS,
          cachedInputTokens: CACHED,
        });

        const streamed = await throughProvider(p, true, 'cached message stream', async () => {
          const stream = anthropic.messages.stream(params);
          const final = await stream.finalMessage();
          const { response } = await stream.withResponse();
          return { final, response };
        });
        // Anthropic counts cache reads apart from input_tokens
        expect(streamed.result.final.usage).toMatchObject({
          input_tokens: streamed.prompt - CACHED,
          cache_read_input_tokens: CACHED,
          output_tokens: CHUNKS,
        });
        rows.push({
          label: `${p.model} anthropic cached message stream`,
          requestId: requestIdOf(streamed.result.response),
          model: p.model,
          upstreamModel: p.upstream,
          endpoint: 'messages',
          stream: true,
          inputTokens: streamed.prompt,
          outputTokens: CHUNKS,
          cachedInputTokens: CACHED,
        });
      } finally {
        await mock.configure({ models: { [p.upstream]: null } });
      }
    });
  });

  describe('legacy /v1/completions', () => {
    const openaiProvider = byModel.get('e2e-openai')!;

    it('completes text through the openai channel, streamed and not', async () => {
      const prompt = 'Once upon a time at a toll gate';
      const before = await mock.requestsFor(openaiProvider.upstream);
      const { data, response } = await openai.completions
        .create({ model: openaiProvider.model, prompt, max_tokens: 32 })
        .withResponse();
      const seen = await mock.oneMoreRequest(openaiProvider.upstream, before, 'completion');
      expect(seen.lastPath).toBe('/v1/completions');
      expect(seen.lastBody).toMatchObject({ model: openaiProvider.upstream, prompt });
      const promptTokens = mockCompletionPromptTokens(prompt);
      expect(data.object).toBe('text_completion');
      expect(data.model).toBe(openaiProvider.model);
      expect(data.choices[0]).toMatchObject({ text: mockAnswer(WORDS), finish_reason: 'stop' });
      expect(data.usage).toMatchObject({ prompt_tokens: promptTokens, completion_tokens: WORDS });
      rows.push({
        label: 'completion',
        requestId: requestIdOf(response),
        model: openaiProvider.model,
        upstreamModel: openaiProvider.upstream,
        endpoint: 'completions',
        stream: false,
        inputTokens: promptTokens,
        outputTokens: WORDS,
      });

      const streamed = await openai.completions
        .create({
          model: openaiProvider.model,
          prompt,
          max_tokens: 32,
          stream: true,
          stream_options: { include_usage: true },
        })
        .withResponse();
      let text = '';
      let finish: string | null = null;
      let usage: OpenAI.CompletionUsage | undefined;
      for await (const chunk of streamed.data) {
        expect(chunk.model).toBe(openaiProvider.model);
        text += chunk.choices[0]?.text ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
        if (chunk.usage) usage = chunk.usage;
      }
      expect(text).toBe(mockAnswer(CHUNKS));
      expect(finish).toBe('stop');
      expect(usage).toMatchObject({ prompt_tokens: promptTokens, completion_tokens: CHUNKS });
      rows.push({
        label: 'completion stream',
        requestId: requestIdOf(streamed.response),
        model: openaiProvider.model,
        upstreamModel: openaiProvider.upstream,
        endpoint: 'completions',
        stream: true,
        inputTokens: promptTokens,
        outputTokens: CHUNKS,
      });
    });

    it('refuses a text completion for a model served only by an Anthropic channel', async () => {
      const claude = byModel.get('e2e-claude')!;
      const before = await mock.requestsFor(claude.upstream);
      const err = await openai.completions
        .create({ model: claude.model, prompt: 'hello' })
        .then(() => null)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.BadRequestError);
      const e = err as InstanceType<typeof OpenAI.BadRequestError>;
      expect(e.status).toBe(400);
      expect(e.code).toBe('unsupported_endpoint');
      expect(await mock.requestsFor(claude.upstream)).toBe(before);
      failures.push({
        label: 'completion refused',
        requestId: e.headers?.get('x-request-id') ?? '',
        model: claude.model,
        endpoint: 'completions',
        // refused by the gateway, sent nowhere: the request's own fault
        outcome: ['rejected'],
        httpStatus: 400,
      });
    });
  });

  describe("the Anthropic client's key and errors", () => {
    it('takes the key as a Bearer token too, and refuses a wrong one as authentication_error', async () => {
      const gemini = byModel.get('e2e-gemini')!;
      const bearer = new Anthropic({
        apiKey: null,
        authToken: owner.key,
        baseURL: stack.proxyUrl,
        maxRetries: 0,
        timeout: 15_000,
      });
      const plain = await throughProvider(gemini, false, 'message with a Bearer key', () =>
        bearer.messages
          .create({
            model: gemini.model,
            max_tokens: 64,
            messages: [{ role: 'user', content: QUESTION }],
          })
          .withResponse(),
      );
      expect(plain.result.data.stop_reason).toBe('end_turn');
      expect(plain.result.data.usage).toMatchObject({
        input_tokens: plain.prompt,
        output_tokens: WORDS,
      });
      rows.push({
        label: 'anthropic message with a Bearer key',
        requestId: requestIdOf(plain.result.response),
        model: gemini.model,
        upstreamModel: gemini.upstream,
        endpoint: 'messages',
        stream: false,
        inputTokens: plain.prompt,
        outputTokens: WORDS,
      });

      const before = await mock.requestsFor(gemini.upstream);
      const wrong = new Anthropic({
        apiKey: `${owner.key}x`,
        baseURL: stack.proxyUrl,
        maxRetries: 0,
        timeout: 15_000,
      });
      const err = await wrong.messages
        .create({
          model: gemini.model,
          max_tokens: 64,
          messages: [{ role: 'user', content: QUESTION }],
        })
        .then(() => null)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
      const e = err as InstanceType<typeof Anthropic.AuthenticationError>;
      expect(e.status).toBe(401);
      expect(e.error).toMatchObject({
        type: 'error',
        error: { type: 'authentication_error', message: expect.any(String) },
      });
      expect(await mock.requestsFor(gemini.upstream)).toBe(before);
    });

    it("raises NotFoundError with Anthropic's error shape for an unknown model", async () => {
      const seenBefore = await mock.byModel();
      const err = await anthropic.messages
        .create({
          model: UNKNOWN_MODEL,
          max_tokens: 64,
          messages: [{ role: 'user', content: QUESTION }],
        })
        .then(() => null)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Anthropic.NotFoundError);
      const e = err as InstanceType<typeof Anthropic.NotFoundError>;
      expect(e.status).toBe(404);
      expect(e.error).toMatchObject({
        type: 'error',
        error: { type: 'not_found_error', message: expect.stringContaining(UNKNOWN_MODEL) },
      });
      // nothing went upstream
      const seenAfter = await mock.byModel();
      expect(Object.keys(seenAfter).sort()).toEqual(Object.keys(seenBefore).sort());
      for (const [name, m] of Object.entries(seenAfter))
        expect({ name, requests: m.requests }).toEqual({
          name,
          requests: seenBefore[name].requests,
        });
      failures.push({
        label: 'unknown model',
        requestId: e.headers.get('x-request-id') ?? '',
        model: UNKNOWN_MODEL,
        endpoint: 'messages',
        outcome: ['rejected'],
        httpStatus: 404,
      });
    });
  });

  describe.each(PROVIDERS.map((p) => [p.surface, p] as const))(
    "a %s provider's errors, in the caller's own format",
    (_surface, p) => {
      /** Makes the mock fail every request for this upstream model, in the provider's format. */
      const failing = async <T>(
        settings: Record<string, number>,
        what: string,
        call: () => Promise<unknown>,
      ): Promise<T> => {
        await mock.configure({ models: { [p.upstream]: settings } });
        try {
          const before = await mock.requestsFor(p.upstream);
          const err = await call().then(
            () => null,
            (e: unknown) => e,
          );
          // one channel serves the model: no second attempt, and never the same channel twice
          await mock.oneMoreRequest(p.upstream, before, what);
          if (err === null) throw new Error(`${p.model} ${what}: the call did not fail`);
          return err as T;
        } finally {
          await mock.configure({ models: { [p.upstream]: null } });
        }
      };

      it('answers the openai client 502 in OpenAI format when the provider fails with 500', async () => {
        const e = await failing<InstanceType<typeof OpenAI.InternalServerError>>(
          { fail_status: 500 },
          'upstream 500',
          () =>
            openai.chat.completions.create({
              model: p.model,
              messages: [{ role: 'user', content: QUESTION }],
            }),
        );
        expect(e).toBeInstanceOf(OpenAI.InternalServerError);
        expect(e.status).toBe(502);
        expect(e.code).toBe('upstream_error');
        expect(typeof e.message).toBe('string');
        failures.push({
          label: `${p.model} openai 502`,
          requestId: e.headers?.get('x-request-id') ?? '',
          model: p.model,
          endpoint: 'chat.completions',
          outcome: ['upstream_error'],
          httpStatus: 502,
        });
      });

      // last: the proxy honours Retry-After and leaves the channel alone for that long
      it('passes a 429 on to the Anthropic client as rate_limit_error with Retry-After', async () => {
        const e = await failing<InstanceType<typeof Anthropic.RateLimitError>>(
          { fail_status: 429, retry_after: 7 },
          'upstream 429',
          () =>
            anthropic.messages.create({
              model: p.model,
              max_tokens: 64,
              messages: [{ role: 'user', content: QUESTION }],
            }),
        );
        expect(e).toBeInstanceOf(Anthropic.RateLimitError);
        expect(e.status).toBe(429);
        expect(e.headers.get('retry-after')).toBe('7');
        expect(e.error).toMatchObject({
          type: 'error',
          error: { type: 'rate_limit_error', message: expect.any(String) },
        });
        failures.push({
          label: `${p.model} anthropic 429`,
          requestId: e.headers.get('x-request-id') ?? '',
          model: p.model,
          endpoint: 'messages',
          outcome: ['upstream_error'],
          httpStatus: 429,
        });
      });
    },
  );

  it('records exactly one priced ledger row per call, with the provider token counts', async () => {
    // 4 providers × (3 chat + 3 tool + 2 message + 3 tool_use + 2 cached) + 2 completions + 1 Bearer
    expect(rows).toHaveLength(PROVIDERS.length * 13 + 3);
    expect(new Set(rows.map((r) => r.requestId)).size).toBe(rows.length);

    const ledger = await waitFor(
      async () => {
        const all = await api.allUsage(owner.token, owner.orgId);
        return rows.every((c) => all.some((r) => r.requestId === c.requestId)) ? all : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 200, what: 'a ledger row for every call' },
    );
    // a late duplicate delivery would show up as a second row: read again after a pause
    await new Promise((r) => setTimeout(r, 1_000));
    ledger.splice(0, ledger.length, ...(await api.allUsage(owner.token, owner.orgId)));

    for (const c of rows) {
      const mine = ledger.filter((r) => r.requestId === c.requestId);
      expect({ call: c.label, rows: mine.length }).toEqual({ call: c.label, rows: 1 });
      expect({ call: c.label, ...pick(mine[0]) }).toEqual({
        call: c.label,
        tenantId: owner.tenantId,
        keyId: owner.keyId,
        model: c.model,
        upstreamModel: c.upstreamModel,
        endpoint: c.endpoint,
        stream: c.stream,
        outcome: 'ok',
        httpStatus: 200,
        inputTokens: c.inputTokens,
        outputTokens: c.outputTokens,
        cachedInputTokens: c.cachedInputTokens ?? 0,
        priced: true,
      });
      const price = PRICES[c.model];
      expect({ call: c.label, costNano: parseUsdToNano(mine[0].costUsd) }).toEqual({
        call: c.label,
        costNano: computeCostNano(
          {
            inputTokens: c.inputTokens,
            outputTokens: c.outputTokens,
            cachedInputTokens: c.cachedInputTokens ?? 0,
          },
          {
            inputNanoUsdPerMTok: parseUsdToNano(price.input),
            outputNanoUsdPerMTok: parseUsdToNano(price.output),
          },
        ),
      });
    }

    // refused and failed calls: one row each, nothing produced, nothing charged
    expect(failures).toHaveLength(PROVIDERS.length * 2 + 2);
    for (const f of failures) {
      expect({ call: f.label, requestId: f.requestId }).toEqual({
        call: f.label,
        requestId: expect.stringMatching(/.+/),
      });
      const mine = ledger.filter((r) => r.requestId === f.requestId);
      expect({ call: f.label, rows: mine.length }).toEqual({ call: f.label, rows: 1 });
      expect({
        call: f.label,
        model: mine[0].model,
        endpoint: mine[0].endpoint,
        outcome: f.outcome.includes(mine[0].outcome as never) ? f.outcome : mine[0].outcome,
        httpStatus: mine[0].httpStatus,
        outputTokens: mine[0].outputTokens,
        costNano: parseUsdToNano(mine[0].costUsd),
      }).toEqual({
        call: f.label,
        model: f.model,
        endpoint: f.endpoint,
        outcome: f.outcome,
        httpStatus: f.httpStatus,
        outputTokens: 0,
        costNano: 0n,
      });
    }
    // and that is every row of the organisation
    expect(ledger).toHaveLength(rows.length + failures.length);
  });
});

function requestIdOf(response: Response): string {
  const id = response.headers.get('x-request-id');
  if (!id) throw new Error('the proxy answered without an x-request-id header');
  return id;
}

function pick(r: UsageRecordResponseDto) {
  return {
    tenantId: r.tenantId,
    keyId: r.keyId,
    model: r.model,
    upstreamModel: r.upstreamModel,
    endpoint: r.endpoint,
    stream: r.stream,
    outcome: r.outcome,
    httpStatus: r.httpStatus,
    inputTokens: r.inputTokens,
    outputTokens: r.outputTokens,
    cachedInputTokens: r.cachedInputTokens,
    priced: r.priced,
  };
}
