import { BUILT_IN_SETTINGS, pickSettings, resolveSettings } from './settings';
import { countWords, mockEmbeddingTokens, mockPromptTokens } from './wire';

describe('resolveSettings', () => {
  const runtime = {
    defaults: { latency_ms: 5, chunks: 3 },
    models: { slow: { latency_ms: 50, words: 7 } },
  };

  it('layers header over body over per-model over runtime defaults over the base', () => {
    const sut = resolveSettings(
      BUILT_IN_SETTINGS,
      runtime,
      'slow',
      { words: 9, chunk_delay_ms: 2 },
      { 'x-mock-words': '11' },
    );
    expect(sut).toMatchObject({ latency_ms: 50, chunks: 3, words: 11, chunk_delay_ms: 2 });
  });

  it('uses the runtime defaults for a model without its own settings', () => {
    expect(resolveSettings(BUILT_IN_SETTINGS, runtime, 'other', undefined, {})).toMatchObject({
      latency_ms: 5,
      words: 10,
    });
  });

  it('ignores unknown or invalid values and clamps numbers into range', () => {
    expect(
      pickSettings({
        latency_ms: 'soon',
        chunks: -4,
        fail_status: 1000,
        malformed_json: 'true',
        nope: 1,
      }),
    ).toEqual({
      chunks: 0,
      fail_status: 599,
      malformed_json: true,
    });
  });

  it('reads prompt_tokens (default -1: count as usual) from a header, clamped to -1 at least', () => {
    expect(BUILT_IN_SETTINGS.prompt_tokens).toBe(-1);
    const none = { defaults: {}, models: {} };
    expect(
      resolveSettings(BUILT_IN_SETTINGS, none, 'm', null, { 'x-mock-prompt-tokens': '823' })
        .prompt_tokens,
    ).toBe(823);
    expect(pickSettings({ prompt_tokens: -7 })).toEqual({ prompt_tokens: -1 });
  });

  it('reads boolean faults from headers', () => {
    const sut = resolveSettings(BUILT_IN_SETTINGS, { defaults: {}, models: {} }, 'm', null, {
      'x-mock-wrong-content-type': '1',
    });
    expect(sut.wrong_content_type).toBe(true);
  });
});

describe('mock token counts', () => {
  it('counts words of the input text plus one per message', () => {
    expect(countWords('  two  words\nthree ')).toBe(3);
    expect(
      mockPromptTokens([
        { role: 'system', content: 'be brief' },
        { role: 'user', content: [{ type: 'text', text: 'hi there you' }] },
      ]),
    ).toBe(2 + 1 + 3 + 1);
  });

  it('counts embeddings input by words per string, or token-array length', () => {
    expect(mockEmbeddingTokens('one two')).toBe(2);
    expect(mockEmbeddingTokens(['a b', 'c'])).toBe(3);
    expect(mockEmbeddingTokens([1, 2, 3, 4])).toBe(4);
    expect(mockEmbeddingTokens([[1, 2], [3]])).toBe(3);
  });
});
