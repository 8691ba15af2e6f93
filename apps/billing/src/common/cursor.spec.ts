import { BillingErrorCode, BillingException } from './billing.exception';
import { decodeCursor, decodeUsageCursor, encodeCursor, encodeUsageCursor } from './cursor';

function codeOf(fn: () => unknown): BillingErrorCode | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof BillingException ? e.code : undefined;
  }
  return undefined;
}

describe('cursor encoding', () => {
  it('round-trips its parts through an URL-safe string', () => {
    const sut = encodeCursor(['a/b+c', 'ünïcode', '']);
    expect(sut).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(sut, 3)).toEqual(['a/b+c', 'ünïcode', '']);
  });

  it.each([
    ['not base64url', 'abc$%'],
    ['not JSON', Buffer.from('{oops').toString('base64url')],
    ['an object', Buffer.from('{"a":1}').toString('base64url')],
    ['the wrong arity', encodeCursor(['one'])],
    ['a non-string part', Buffer.from('[1,2]').toString('base64url')],
    ['empty', ''],
  ])('refuses %s as invalid_cursor', (_what, cursor) => {
    expect(codeOf(() => decodeCursor(cursor, 2))).toBe(BillingErrorCode.InvalidCursor);
  });
});

describe('usage cursor', () => {
  it('round-trips time (to the millisecond) and request id', () => {
    const at = new Date('2026-03-04T05:06:07.089Z');
    const sut = decodeUsageCursor(encodeUsageCursor({ occurredAt: at, requestId: 'req_1' }));
    expect(sut.occurredAt.getTime()).toBe(at.getTime());
    expect(sut.requestId).toBe('req_1');
  });

  it.each([
    ['an invalid date', encodeCursor(['yesterday', 'req_1'])],
    ['a non-canonical date', encodeCursor(['2026-03-04', 'req_1'])],
    ['an empty request id', encodeCursor(['2026-03-04T05:06:07.089Z', ''])],
  ])('refuses %s', (_what, cursor) => {
    expect(codeOf(() => decodeUsageCursor(cursor))).toBe(BillingErrorCode.InvalidCursor);
  });
});
