import { describeRejection, formatResetDuration, rateLimitHeaders } from './admission-http';

describe('formatResetDuration', () => {
  it.each([
    [0, '0ms'],
    [20.2, '21ms'],
    [1_500, '1.5s'],
    [59_999, '59.999s'],
    [360_000, '6m0s'],
    [61_250, '1m1.25s'],
    [1_050, '1.05s'],
    [1_005, '1.005s'],
    [60_010, '1m0.01s'],
    [119_999.2, '2m0s'],
    [-5, '0ms'],
  ])('writes %p ms as %p', (ms, text) => {
    expect(formatResetDuration(ms)).toBe(text);
  });
});

describe('rateLimitHeaders', () => {
  it('writes the request and token headers OpenAI clients read', () => {
    const sut = rateLimitHeaders({
      requests: { limit: 60, remaining: 59, resetMs: 1_000 },
      tokens: { limit: 10_000, remaining: 9_000, resetMs: 6_000 },
    });
    expect(sut).toEqual({
      'x-ratelimit-limit-requests': '60',
      'x-ratelimit-remaining-requests': '59',
      'x-ratelimit-reset-requests': '1s',
      'x-ratelimit-limit-tokens': '10000',
      'x-ratelimit-remaining-tokens': '9000',
      'x-ratelimit-reset-tokens': '6s',
    });
  });

  it('writes nothing for dimensions no scope limits', () => {
    expect(rateLimitHeaders({ requests: null, tokens: null })).toEqual({});
    const only = { limit: 5, remaining: 4, resetMs: 61_250 };
    expect(rateLimitHeaders({ requests: only, tokens: null })).toEqual({
      'x-ratelimit-limit-requests': '5',
      'x-ratelimit-remaining-requests': '4',
      'x-ratelimit-reset-requests': '1m1.25s',
    });
    expect(rateLimitHeaders({ requests: null, tokens: only })).toEqual({
      'x-ratelimit-limit-tokens': '5',
      'x-ratelimit-remaining-tokens': '4',
      'x-ratelimit-reset-tokens': '1m1.25s',
    });
  });
});

describe('describeRejection', () => {
  const none = { requests: null, tokens: null };

  it('answers rate_limit_exceeded with Retry-After rounded up to whole seconds for rpm', () => {
    const sut = describeRejection({
      admitted: false,
      scope: 'key',
      model: null,
      reason: 'rpm',
      retryAfterMs: 1_200,
      rateLimits: none,
    });
    expect(sut.status).toBe(429);
    expect(sut.retryAfterSeconds).toBe(2);
    expect(sut.body.error.code).toBe('rate_limit_exceeded');
    expect(sut.body.error.message).toContain('API key');
  });

  it('answers insufficient_quota without Retry-After for an exhausted balance', () => {
    const sut = describeRejection({
      admitted: false,
      scope: 'org',
      model: null,
      reason: 'balance',
      retryAfterMs: null,
      rateLimits: none,
    });
    expect(sut.retryAfterSeconds).toBeNull();
    expect(sut.body.error).toMatchObject({
      type: 'insufficient_quota',
      code: 'insufficient_quota',
    });
    expect(sut.body.error.message).toContain('organisation');
  });

  it('names the model of a per-model refusal', () => {
    const sut = describeRejection({
      admitted: false,
      scope: 'tenant-model',
      model: 'gpt-4o',
      reason: 'budget_daily',
      retryAfterMs: 3_600_000,
      rateLimits: none,
    });
    expect(sut.body.error.code).toBe('insufficient_quota');
    expect(sut.body.error.message).toBe(
      'You exceeded the daily budget of this tenant on model "gpt-4o".',
    );
  });
});
