import { AccountsErrorCode, AccountsException } from './accounts.exception';
import { decodeCursor, encodeCursor } from './cursor';

describe('keyset cursor', () => {
  const position = {
    createdAt: new Date('2026-11-23T10:11:12.345Z'),
    id: '2b1f0d0e-6a5c-4c1e-9a43-5f9b0e0b7c11',
  };

  it('round-trips a position to the millisecond', () => {
    const sut = decodeCursor(encodeCursor(position));

    expect(sut).toEqual(position);
  });

  it('is opaque URL-safe text', () => {
    expect(encodeCursor(position)).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it.each([
    ['garbage', 'not a cursor!'],
    ['empty json', Buffer.from('{}').toString('base64url')],
    ['wrong version', Buffer.from(`k0.1.${position.id}`).toString('base64url')],
    ['bad id', Buffer.from('k1.1700000000000.1; drop table tenants').toString('base64url')],
    ['bad time', Buffer.from(`k1.soon.${position.id}`).toString('base64url')],
    ['extra parts', Buffer.from(`k1.1.${position.id}.x`).toString('base64url')],
  ])('refuses %s with invalid_cursor', (_label, cursor) => {
    let caught: unknown;
    try {
      decodeCursor(cursor);
    } catch (e) {
      caught = e;
    }

    expect(caught).toBeInstanceOf(AccountsException);
    expect((caught as AccountsException).code).toBe(AccountsErrorCode.InvalidCursor);
  });
});
