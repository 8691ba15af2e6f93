import {
  estimateChatPromptTokens,
  estimateCompletionTokens,
  estimateEmbeddingInputTokens,
  estimateTextTokens,
} from './estimate';
import { CHAT_COMPLETION_JSON, EMBEDDINGS_JSON } from './fixtures.spec-helper';
import { rewriteModelInJson, upstreamModelName } from './model-name';
import { usageFromOpenAI, usageOfResponse } from './usage';

describe('usageOfResponse', () => {
  it('reads a recorded chat completion', () => {
    expect(usageOfResponse(JSON.parse(CHAT_COMPLETION_JSON))).toEqual({
      inputTokens: 19,
      outputTokens: 10,
      cachedInputTokens: 0,
    });
  });

  it('reads a recorded embeddings response (no completion tokens)', () => {
    expect(usageOfResponse(JSON.parse(EMBEDDINGS_JSON))).toEqual({
      inputTokens: 5,
      outputTokens: 0,
      cachedInputTokens: 0,
    });
  });

  it('returns null for absent or invalid usage, and never more cached than input', () => {
    expect(usageOfResponse({ choices: [] })).toBeNull();
    expect(usageFromOpenAI({ prompt_tokens: -1, completion_tokens: 1 })).toBeNull();
    expect(usageFromOpenAI({ prompt_tokens: 1, completion_tokens: '2' })).toBeNull();
    expect(
      usageFromOpenAI({
        prompt_tokens: 2,
        completion_tokens: 0,
        prompt_tokens_details: { cached_tokens: 9 },
      }),
    ).toEqual({
      inputTokens: 2,
      outputTokens: 0,
      cachedInputTokens: 2,
    });
  });
});

describe('estimates', () => {
  it('counts about four characters per token', () => {
    expect(estimateTextTokens('')).toBe(0);
    expect(estimateTextTokens('abcd')).toBe(1);
    expect(estimateTextTokens('abcde')).toBe(2);
  });

  it('estimates a chat prompt with per-message overhead and content parts', () => {
    const sut = estimateChatPromptTokens({
      messages: [
        { role: 'system', content: 'abcdefgh' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'abcd' },
            { type: 'image_url', image_url: { url: 'x' } },
          ],
        },
      ],
    });
    expect(sut).toBe(3 + 2 + 3 + 1);
  });

  it('estimates embeddings input of strings and token arrays', () => {
    expect(estimateEmbeddingInputTokens('abcdefgh')).toBe(2);
    expect(estimateEmbeddingInputTokens(['abcd', 'abcd'])).toBe(2);
    expect(estimateEmbeddingInputTokens([5, 6, 7])).toBe(3);
    expect(estimateEmbeddingInputTokens([[5, 6], [7]])).toBe(3);
  });

  it('estimates the output of a completion from its message text', () => {
    expect(estimateCompletionTokens(JSON.parse(CHAT_COMPLETION_JSON))).toBe(
      Math.ceil('Hello! How can I assist you today?'.length / 4),
    );
  });
});

describe('model names', () => {
  it('maps a requested name through the channel mapping, and keeps unmapped ones', () => {
    expect(upstreamModelName({ 'team-gpt': 'gpt-4o-mini' }, 'team-gpt')).toBe('gpt-4o-mini');
    expect(upstreamModelName({ 'team-gpt': 'gpt-4o-mini' }, 'gpt-4o')).toBe('gpt-4o');
    expect(upstreamModelName({}, 'constructor')).toBe('constructor');
    expect(upstreamModelName(null, 'x')).toBe('x');
  });

  it('rewrites the model of a JSON body only when it differs', () => {
    const sut = rewriteModelInJson(CHAT_COMPLETION_JSON, 'team-gpt');
    expect(JSON.parse(sut)).toEqual({ ...JSON.parse(CHAT_COMPLETION_JSON), model: 'team-gpt' });
    expect(rewriteModelInJson(CHAT_COMPLETION_JSON, 'gpt-4o-2024-08-06')).toBe(
      CHAT_COMPLETION_JSON,
    );
    expect(() => rewriteModelInJson('[1]', 'x')).toThrow(SyntaxError);
  });
});
