import {
  rateLimitHeaders,
  type RateLimitSnapshot,
  type RateLimitStatus,
} from '@tollgate/server-admission';
import { LeaseRateLimitTexts } from './admission-leases';

/** The view the headers stand for: the lease's unused part free again, the resets `elapsed` nearer. */
function view(
  limits: RateLimitSnapshot,
  requestsLeft: number,
  tokensLeft: number,
  elapsed: number,
): RateLimitSnapshot {
  const adjust = (s: RateLimitStatus | null, left: number): RateLimitStatus | null =>
    s === null
      ? null
      : {
          limit: s.limit,
          remaining: Math.min(s.limit, s.remaining + left),
          resetMs: Math.max(0, s.resetMs - elapsed),
        };
  return {
    requests: adjust(limits.requests, requestsLeft),
    tokens: adjust(limits.tokens, tokensLeft),
  };
}

describe('LeaseRateLimitTexts', () => {
  const requests: RateLimitStatus = { limit: 600, remaining: 472, resetMs: 12_345 };
  const tokens: RateLimitStatus = { limit: 90_000, remaining: 81_000, resetMs: 61_250 };

  it('counts what the lease has not handed out as remaining, and the resets as nearer', () => {
    const sut = new LeaseRateLimitTexts({ requests, tokens }).headers(100, 5_000, 345);
    expect(sut).toEqual({
      'x-ratelimit-limit-requests': '600',
      'x-ratelimit-remaining-requests': '572',
      'x-ratelimit-reset-requests': '12s',
      'x-ratelimit-limit-tokens': '90000',
      'x-ratelimit-remaining-tokens': '86000',
      'x-ratelimit-reset-tokens': '1m0.905s',
    });
  });

  it('never shows more remaining than the limit, nor a reset already past', () => {
    const sut = new LeaseRateLimitTexts({ requests, tokens: null }).headers(1_000, 0, 20_000);
    expect(sut).toEqual({
      'x-ratelimit-limit-requests': '600',
      'x-ratelimit-remaining-requests': '600',
      'x-ratelimit-reset-requests': '0ms',
    });
  });

  it('writes nothing for a key without request or token limits', () => {
    expect(new LeaseRateLimitTexts({ requests: null, tokens: null }).headers(5, 5, 5)).toEqual({});
  });

  it('writes what rateLimitHeaders writes for the same view, whatever the numbers', () => {
    let seed = 12_345;
    const next = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % n;
    };
    const status = (): RateLimitStatus | null => {
      if (next(4) === 0) return null;
      const limit = 1 + next(1_000_000);
      return { limit, remaining: next(limit + 1), resetMs: next(3_600_000) };
    };
    for (let lease = 0; lease < 200; lease++) {
      const limits = { requests: status(), tokens: status() };
      const sut = new LeaseRateLimitTexts(limits);
      // the requests of one lease, in time order, several within the same millisecond
      let elapsed = 0;
      for (let i = 0; i < 20; i++) {
        elapsed += next(3) === 0 ? next(5_000) : 0;
        const [requestsLeft, tokensLeft] = [next(200), next(200_000)];
        const expected = rateLimitHeaders(view(limits, requestsLeft, tokensLeft, elapsed));
        expect(sut.headers(requestsLeft, tokensLeft, elapsed)).toEqual(expected);
      }
    }
  });
});
