import { ProxyEndpoint } from '@tollgate/contracts';
import { estimateChatPromptTokens } from '@tollgate/providers';
import { MAX_ADMISSION_TOKENS } from '@tollgate/server-admission';
import { MAX_RESERVATION_NANO } from './admission.service';
import { parsePrice } from './price-book';
import { estimateRequest } from './request-estimate';

const MESSAGES = [
  { role: 'system' as const, content: 'You are terse.' },
  { role: 'user' as const, content: 'Tell me three short things about gateways' },
];

describe('estimateRequest', () => {
  describe('chat completions', () => {
    it('reserves the prompt estimate and max_tokens', () => {
      const sut = estimateRequest(
        ProxyEndpoint.ChatCompletions,
        { model: 'm', messages: MESSAGES, max_tokens: 50 },
        4096,
      );
      expect(sut).toEqual({
        promptTokens: estimateChatPromptTokens({ messages: MESSAGES }),
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

    it('counts tool definitions into the prompt', () => {
      const plain = estimateRequest(ProxyEndpoint.ChatCompletions, { messages: MESSAGES }, 1);
      const tools = [{ type: 'function', function: { name: 'lookup', parameters: {} } }];
      const withTools = estimateRequest(
        ProxyEndpoint.ChatCompletions,
        { messages: MESSAGES, tools },
        1,
      );
      expect(withTools.promptTokens).toBe(
        plain.promptTokens + Math.ceil(JSON.stringify(tools).length / 4),
      );
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

  it('reserves no output for embeddings', () => {
    expect(
      estimateRequest(ProxyEndpoint.Embeddings, { input: ['abcdefgh', 'abcd'] }, 4096),
    ).toEqual({ promptTokens: 3, maxOutputTokens: 0 });
  });

  it('reads an Anthropic Messages body (system, text blocks, max_tokens)', () => {
    const sut = estimateRequest(
      ProxyEndpoint.Messages,
      {
        system: 'abcdefgh',
        messages: [{ role: 'user', content: [{ type: 'text', text: 'abcd' }] }],
        max_tokens: 64,
      },
      4096,
    );
    expect(sut).toEqual({ promptTokens: 2 + 3 + 1, maxOutputTokens: 64 });
  });

  it('reads a legacy completions prompt and best_of', () => {
    const sut = estimateRequest(
      ProxyEndpoint.Completions,
      { prompt: 'abcdefgh', max_tokens: 10, n: 2, best_of: 3 },
      4096,
    );
    expect(sut).toEqual({ promptTokens: 2, maxOutputTokens: 30 });
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
