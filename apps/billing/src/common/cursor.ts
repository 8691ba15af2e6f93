import { BillingErrorCode, BillingException } from './billing.exception';

/**
 * Opaque keyset cursors: base64url of a small JSON array. Only their own decoder reads them; a cursor
 * that does not decode to the expected shape is a 400, never a silent first page.
 */
export function encodeCursor(parts: readonly string[]): string {
  return Buffer.from(JSON.stringify(parts), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, arity: number): string[] {
  const invalid = (): BillingException =>
    new BillingException(BillingErrorCode.InvalidCursor, 'cursor is not one this API issued');
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== arity ||
    !parsed.every((p) => typeof p === 'string')
  )
    throw invalid();
  return parsed as string[];
}

/** Cursor of the usage listing: the last row's time (ms precision, as stored) and request id. */
export interface UsageCursor {
  occurredAt: Date;
  requestId: string;
}

export function encodeUsageCursor(c: UsageCursor): string {
  return encodeCursor([c.occurredAt.toISOString(), c.requestId]);
}

export function decodeUsageCursor(cursor: string): UsageCursor {
  const [iso, requestId] = decodeCursor(cursor, 2);
  const occurredAt = new Date(iso);
  if (Number.isNaN(occurredAt.getTime()) || occurredAt.toISOString() !== iso || !requestId) {
    throw new BillingException(BillingErrorCode.InvalidCursor, 'cursor is not one this API issued');
  }
  return { occurredAt, requestId };
}
