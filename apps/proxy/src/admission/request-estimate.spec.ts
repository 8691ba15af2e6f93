import { ProxyEndpoint } from '@tollgate/contracts';
import { mockPromptTokens } from '@tollgate/mock-provider';
import { estimateChatPromptTokens } from '@tollgate/providers';
import { MAX_ADMISSION_TOKENS } from '@tollgate/server-admission';
import { MAX_RESERVATION_NANO } from './settlement';
import { parsePrice } from './price-book';
import {
  estimateRequest,
  PROMPT_BOUND_FIXED_TOKENS,
  PROMPT_BOUND_TOKENS_PER_IMAGE,
  PROMPT_BOUND_TOKENS_PER_MESSAGE,
  PROMPT_BOUND_TOOL_USE_TOKENS,
} from './request-estimate';

const MESSAGES = [
  { role: 'system' as const, content: 'You are terse.' },
  { role: 'user' as const, content: 'Tell me three short things about gateways' },
];

const FIXED = PROMPT_BOUND_FIXED_TOKENS;
const PER_MESSAGE = PROMPT_BOUND_TOKENS_PER_MESSAGE;
const utf8 = (s: string): number => Buffer.byteLength(s, 'utf8');
const chatBound = (body: Record<string, unknown>): number =>
  estimateRequest(ProxyEndpoint.ChatCompletions, body, 1).promptTokens;

describe('estimateRequest', () => {
  describe('chat completions', () => {
    it('reserves the prompt bound and max_tokens by default', () => {
      const sut = estimateRequest(
        ProxyEndpoint.ChatCompletions,
        { model: 'm', messages: MESSAGES, max_tokens: 50 },
        4096,
      );
      expect(sut).toEqual({
        promptTokens:
          FIXED +
          (PER_MESSAGE + utf8('system') + utf8('You are terse.')) +
          (PER_MESSAGE + utf8('user') + utf8('Tell me three short things about gateways')),
        maxOutputTokens: 50,
      });
    });

    it('prefers max_completion_tokens, and multiplies by n', () => {
      const sut = estimateRequest(
        ProxyEndpoint.ChatCompletions,
        { model: 'm', messages: MESSAGES, max_tokens: 50, max_completion_tokens: 70, n: 3 },
        4096,
      );
      expect(sut.maxOutputTokens).toBe(210);
    });

    it('falls back to the configured cap without max_tokens', () => {
      const sut = estimateRequest(
        ProxyEndpoint.ChatCompletions,
        { model: 'm', messages: MESSAGES, max_tokens: null },
        4096,
      );
      expect(sut.maxOutputTokens).toBe(4096);
    });

    it('never exceeds what the admission store accepts', () => {
      const sut = estimateRequest(
        ProxyEndpoint.ChatCompletions,
        { messages: MESSAGES, max_tokens: Number.MAX_SAFE_INTEGER, n: 128 },
        1,
      );
      expect(sut.maxOutputTokens).toBe(MAX_ADMISSION_TOKENS);
    });
  });

  describe('the prompt bound', () => {
    const user = (content: unknown) => ({ messages: [{ role: 'user', content }] });
    const oneMessage = FIXED + PER_MESSAGE + utf8('user');

    it('is above what the provider counts for many short words, where the heuristic is below', () => {
      // the reproduction: 400 one-letter words, which the mock (like a real tokenizer)
      // counts as one token each
      const body = user(Array.from({ length: 400 }, () => 'a').join(' '));
      const provider = mockPromptTokens(body.messages);
      expect(provider).toBe(401);
      expect(chatBound(body)).toBe(oneMessage + 799);
      expect(chatBound(body)).toBeGreaterThanOrEqual(provider);
      expect(
        estimateRequest(ProxyEndpoint.ChatCompletions, body, 1, 'heuristic').promptTokens,
      ).toBeLessThan(provider);
    });

    it('counts UTF-8 bytes, not characters (CJK, emoji)', () => {
      expect(chatBound(user('你好世界'))).toBe(oneMessage + 12);
      expect(chatBound(user('🙂'))).toBe(oneMessage + 4);
    });

    it('counts each image as a fixed bound, not its URL or data', () => {
      const data = `data:image/png;base64,${'A'.repeat(100_000)}`;
      const sut = chatBound(
        user([
          { type: 'text', text: 'what is this?' },
          { type: 'image_url', image_url: { url: data, detail: 'high' } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
        ]),
      );
      expect(sut).toBe(oneMessage + utf8('what is this?') + 2 * PROMPT_BOUND_TOKENS_PER_IMAGE);
    });

    it('counts an unknown part by its JSON, and at least as an image', () => {
      const audio = { type: 'input_audio', input_audio: { data: 'B'.repeat(9000), format: 'wav' } };
      expect(chatBound(user([audio]))).toBe(oneMessage + utf8(JSON.stringify(audio)));
      const file = { type: 'file', file: { file_id: 'file-1' } };
      expect(chatBound(user([file]))).toBe(oneMessage + PROMPT_BOUND_TOKENS_PER_IMAGE);
    });

    it('counts names, tool calls, tool results, tool definitions and the response format', () => {
      const toolCalls = [
        { id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } },
      ];
      const tools = [{ type: 'function', function: { name: 'lookup', parameters: {} } }];
      const responseFormat = {
        type: 'json_schema',
        json_schema: { name: 'r', schema: { type: 'object' } },
      };
      const sut = chatBound({
        messages: [
          { role: 'user', name: 'ann', content: 'hi' },
          { role: 'assistant', content: null, tool_calls: toolCalls },
          { role: 'tool', tool_call_id: 'call_1', content: 'result' },
        ],
        tools,
        response_format: responseFormat,
      });
      expect(sut).toBe(
        FIXED +
          (PER_MESSAGE + utf8('user') + utf8('ann') + utf8('hi')) +
          (PER_MESSAGE + utf8('assistant') + utf8(JSON.stringify(toolCalls))) +
          (PER_MESSAGE + utf8('tool') + utf8('call_1') + utf8('result')) +
          utf8(JSON.stringify(tools)) +
          PROMPT_BOUND_TOOL_USE_TOKENS +
          utf8(JSON.stringify(responseFormat)),
      );
    });

    it('reads an Anthropic Messages body: system blocks, images, tool use and results, tools', () => {
      const toolUse = { type: 'tool_use', id: 'tu_1', name: 'lookup', input: { q: 'x' } };
      const tools = [{ name: 'lookup', input_schema: { type: 'object' } }];
      const sut = estimateRequest(
        ProxyEndpoint.Messages,
        {
          system: [{ type: 'text', text: 'Be brief.' }],
          messages: [
            {
              role: 'user',
              content: [
                { type: 'text', text: 'look' },
                { type: 'image', source: { type: 'base64', data: 'A'.repeat(5000) } },
              ],
            },
            { role: 'assistant', content: [toolUse] },
            {
              role: 'user',
              content: [{ type: 'tool_result', tool_use_id: 'tu_1', content: 'found' }],
            },
          ],
          tools,
          max_tokens: 64,
        },
        4096,
      );
      expect(sut).toEqual({
        promptTokens:
          FIXED +
          utf8('Be brief.') +
          (PER_MESSAGE + utf8('user') + utf8('look') + PROMPT_BOUND_TOKENS_PER_IMAGE) +
          (PER_MESSAGE + utf8('assistant') + utf8(JSON.stringify(toolUse))) +
          (PER_MESSAGE + utf8('user') + utf8('tu_1') + utf8('found')) +
          utf8(JSON.stringify(tools)) +
          PROMPT_BOUND_TOOL_USE_TOKENS,
        maxOutputTokens: 64,
      });
    });

    it('counts an Anthropic document by its JSON, and at least as an image', () => {
      const body = (block: Record<string, unknown>) => ({
        messages: [{ role: 'user', content: [block] }],
      });
      const pdf = { type: 'document', source: { type: 'base64', data: 'C'.repeat(8000) } };
      const byUrl = { type: 'document', source: { type: 'url', url: 'https://example.com/a.pdf' } };
      const oneMessage = FIXED + PER_MESSAGE + utf8('user');
      expect(estimateRequest(ProxyEndpoint.Messages, body(pdf), 1).promptTokens).toBe(
        oneMessage + utf8(JSON.stringify(pdf)),
      );
      expect(estimateRequest(ProxyEndpoint.Messages, body(byUrl), 1).promptTokens).toBe(
        oneMessage + PROMPT_BOUND_TOKENS_PER_IMAGE,
      );
    });

    it('reads a legacy completions prompt (texts, token arrays, suffix) and best_of', () => {
      const sut = estimateRequest(
        ProxyEndpoint.Completions,
        { prompt: ['abcdefgh', 'é'], suffix: 'end', max_tokens: 10, n: 2, best_of: 3 },
        4096,
      );
      expect(sut).toEqual({ promptTokens: FIXED + 8 + 2 + 3, maxOutputTokens: 30 });
      expect(
        estimateRequest(ProxyEndpoint.Completions, { prompt: [[1, 2, 3], [4]] }, 1).promptTokens,
      ).toBe(FIXED + 4);
    });

    it('reads embeddings input (texts, a token array, token arrays) and reserves no output', () => {
      expect(
        estimateRequest(ProxyEndpoint.Embeddings, { input: ['abcdefgh', 'abcd'] }, 4096),
      ).toEqual({ promptTokens: FIXED + 12, maxOutputTokens: 0 });
      expect(estimateRequest(ProxyEndpoint.Embeddings, { input: [5, 6, 7] }, 1).promptTokens).toBe(
        FIXED + 3,
      );
      expect(
        estimateRequest(ProxyEndpoint.Embeddings, { input: [[5, 6], [7]] }, 1).promptTokens,
      ).toBe(FIXED + 3);
    });
  });

  describe('the heuristic (ADMISSION_PROMPT_ESTIMATE=heuristic)', () => {
    it('reserves four characters per token and counts tool definitions', () => {
      const sut = estimateRequest(
        ProxyEndpoint.ChatCompletions,
        { model: 'm', messages: MESSAGES, max_tokens: 50 },
        4096,
        'heuristic',
      );
      expect(sut).toEqual({
        promptTokens: estimateChatPromptTokens({ messages: MESSAGES }),
        maxOutputTokens: 50,
      });
      const tools = [{ type: 'function', function: { name: 'lookup', parameters: {} } }];
      const withTools = estimateRequest(
        ProxyEndpoint.ChatCompletions,
        { messages: MESSAGES, tools },
        1,
        'heuristic',
      );
      expect(withTools.promptTokens).toBe(
        sut.promptTokens + Math.ceil(JSON.stringify(tools).length / 4),
      );
    });

    it('reads embeddings input, an Anthropic body and a legacy prompt', () => {
      expect(
        estimateRequest(
          ProxyEndpoint.Embeddings,
          { input: ['abcdefgh', 'abcd'] },
          4096,
          'heuristic',
        ),
      ).toEqual({ promptTokens: 3, maxOutputTokens: 0 });
      expect(
        estimateRequest(
          ProxyEndpoint.Messages,
          {
            system: 'abcdefgh',
            messages: [{ role: 'user', content: [{ type: 'text', text: 'abcd' }] }],
            max_tokens: 64,
          },
          4096,
          'heuristic',
        ),
      ).toEqual({ promptTokens: 2 + 3 + 1, maxOutputTokens: 64 });
      expect(
        estimateRequest(
          ProxyEndpoint.Completions,
          { prompt: 'abcdefgh', max_tokens: 10, n: 2, best_of: 3 },
          4096,
          'heuristic',
        ),
      ).toEqual({ promptTokens: 2, maxOutputTokens: 30 });
    });
  });
});

describe('parsePrice', () => {
  it('reads a projected price as bigint nano-USD', () => {
    expect(
      parsePrice(
        JSON.stringify({
          model: 'm',
          inputNanoUsdPerMTok: '150000000',
          outputNanoUsdPerMTok: '600000000',
          version: 2,
        }),
      ),
    ).toEqual({ inputNanoUsdPerMTok: 150_000_000n, outputNanoUsdPerMTok: 600_000_000n });
  });

  it('treats an unreadable price as none', () => {
    expect(parsePrice('{')).toBeNull();
    expect(
      parsePrice(JSON.stringify({ inputNanoUsdPerMTok: 1, outputNanoUsdPerMTok: '2' })),
    ).toBeNull();
    expect(
      parsePrice(JSON.stringify({ inputNanoUsdPerMTok: '-1', outputNanoUsdPerMTok: '2' })),
    ).toBeNull();
  });
});

describe('MAX_RESERVATION_NANO', () => {
  it('fits the usage event and the ledger column (signed 64-bit)', () => {
    expect(MAX_RESERVATION_NANO).toBe(2n ** 63n - 1n);
    expect(MAX_RESERVATION_NANO.toString()).toMatch(/^\d{1,20}$/);
  });
});
