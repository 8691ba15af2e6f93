/**
 * Display formatting. Money arrives as decimal strings of US dollars and is formatted as text: it is
 * never turned into a JavaScript number.
 */

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** "0.000150000" → "$0.00015", "12" → "$12.00", "1234.5" → "$1,234.50". Unparseable input is shown as is. */
export function formatUsd(decimal: string): string {
  const m = DECIMAL.exec(decimal.trim());
  if (!m) return decimal;
  const [, sign, intRaw = '0', fracRaw = ''] = m;
  const intPart = intRaw.replace(/^0+(?=\d)/, '');
  let frac = fracRaw.replace(/0+$/, '');
  if (frac.length < 2) frac = frac.padEnd(2, '0');
  const isZero = /^0*$/.test(intPart) && /^0*$/.test(frac);
  return `${sign && !isZero ? '-' : ''}$${groupThousands(intPart)}.${frac}`;
}

/** True when a decimal string is strictly greater than zero. */
export function isPositiveUsd(decimal: string): boolean {
  const m = DECIMAL.exec(decimal.trim());
  if (!m) return false;
  const [, sign, intRaw = '', fracRaw = ''] = m;
  return sign !== '-' && /[1-9]/.test(intRaw + fracRaw);
}

export function formatCount(n: number): string {
  return Number.isFinite(n) ? groupThousands(String(Math.trunc(n))) : '—';
}

function validDate(iso: string | null | undefined): Date | null {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** "2026-11-23 14:05:09 UTC" — one timezone for everyone reading a shared report. */
export function formatDateTime(iso: string | null | undefined): string {
  const d = validDate(iso);
  return d ? `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC` : '—';
}

export function formatDate(iso: string | null | undefined): string {
  const d = validDate(iso);
  return d ? d.toISOString().slice(0, 10) : '—';
}

export const MONTH_RE = /^\d{4}-(0[1-9]|1[0-2])$/;

/** The calendar month (UTC) of an instant, as YYYY-MM — the month billing reports on. */
export function utcMonth(at: Date): string {
  return at.toISOString().slice(0, 7);
}

export function isMonth(value: string | undefined | null): value is string {
  return typeof value === 'string' && MONTH_RE.test(value);
}

/** "2026-01" shifted by -1 → "2025-12". */
export function shiftMonth(month: string, delta: number): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const index = y * 12 + (m - 1) + delta;
  const year = Math.floor(index / 12);
  const mon = index - year * 12 + 1;
  return `${String(year).padStart(4, '0')}-${String(mon).padStart(2, '0')}`;
}

/** "2026-11" → "November 2026". */
export function monthLabel(month: string): string {
  const names = [
    'January',
    'February',
    'March',
    'April',
    'May',
    'June',
    'July',
    'August',
    'September',
    'October',
    'November',
    'December',
  ];
  const [y, m] = month.split('-').map(Number) as [number, number];
  return `${names[m - 1] ?? month} ${y}`;
}

export type KeyStatus = 'active' | 'revoked' | 'expired';

export function keyStatus(
  key: { revokedAt: string | null; expiresAt: string | null },
  now: Date,
): KeyStatus {
  if (key.revokedAt) return 'revoked';
  const expires = validDate(key.expiresAt);
  if (expires && expires.getTime() <= now.getTime()) return 'expired';
  return 'active';
}

/** The first characters of a uuid, enough to tell rows apart. */
export function shortId(id: string): string {
  return id.length > 8 ? id.slice(0, 8) : id;
}
