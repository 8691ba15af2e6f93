import { AccountsErrorCode, AccountsException } from './accounts.exception';

/** Position of a row in a `(created_at, id)` keyset ordering. */
export interface KeysetPosition {
  createdAt: Date;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const VERSION = 'k1';

/** Opaque to clients: base64url of `k1.<epoch ms>.<id>`. */
export function encodeCursor(position: KeysetPosition): string {
  return Buffer.from(`${VERSION}.${position.createdAt.getTime()}.${position.id}`, 'utf8').toString(
    'base64url',
  );
}

export function decodeCursor(cursor: string): KeysetPosition {
  const invalid = () =>
    new AccountsException(AccountsErrorCode.InvalidCursor, 'cursor is not one this API returned');
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  const [version, ms, id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('.');
  if (
    version !== VERSION ||
    rest.length ||
    !ms ||
    !/^\d{1,15}$/.test(ms) ||
    !id ||
    !UUID.test(id)
  ) {
    throw invalid();
  }
  const createdAt = new Date(Number(ms));
  if (Number.isNaN(createdAt.getTime())) throw invalid();
  return { createdAt, id };
}
