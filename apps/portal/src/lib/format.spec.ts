import {
  formatCount,
  formatDate,
  formatDateTime,
  formatUsd,
  isMonth,
  isPositiveUsd,
  keyStatus,
  monthLabel,
  shiftMonth,
  shortId,
  utcMonth,
} from './format';

describe('formatUsd', () => {
  it.each([
    ['0', '$0.00'],
    ['0.000000000', '$0.00'],
    ['12', '$12.00'],
    ['12.5', '$12.50'],
    ['0.000150000', '$0.00015'],
    ['0.000000001', '$0.000000001'],
    ['1234567.891', '$1,234,567.891'],
    ['007.10', '$7.10'],
    ['-3.5', '-$3.50'],
    ['-0.00', '$0.00'],
  ])('%p → %p', (input, expected) => {
    expect(formatUsd(input)).toBe(expected);
  });

  it('shows something unparseable as it came', () => {
    expect(formatUsd('n/a')).toBe('n/a');
    expect(formatUsd('1e-9')).toBe('1e-9');
  });
});

describe('isPositiveUsd', () => {
  it.each([
    ['0.000000001', true],
    ['2.5', true],
    ['0', false],
    ['0.000000000', false],
    ['-1.00', false],
    ['abc', false],
  ])('%p → %p', (input, expected) => {
    expect(isPositiveUsd(input)).toBe(expected);
  });
});

describe('dates and months', () => {
  it('formats instants in UTC', () => {
    expect(formatDateTime('2026-11-23T14:05:09.123Z')).toBe('2026-11-23 14:05:09 UTC');
    expect(formatDateTime('2026-11-23T23:30:00-02:00')).toBe('2026-11-24 01:30:00 UTC');
    expect(formatDate('2026-11-23T14:05:09.123Z')).toBe('2026-11-23');
    expect(formatDateTime(null)).toBe('—');
    expect(formatDate('garbage')).toBe('—');
  });

  it('takes the calendar month in UTC', () => {
    expect(utcMonth(new Date('2026-11-30T23:59:59Z'))).toBe('2026-11');
    expect(utcMonth(new Date('2026-12-01T00:00:00Z'))).toBe('2026-12');
  });

  it('shifts months across years', () => {
    expect(shiftMonth('2026-01', -1)).toBe('2025-12');
    expect(shiftMonth('2025-12', 1)).toBe('2026-01');
    expect(shiftMonth('2026-06', -18)).toBe('2024-12');
  });

  it('accepts only YYYY-MM months', () => {
    expect(isMonth('2026-11')).toBe(true);
    expect(isMonth('2026-13')).toBe(false);
    expect(isMonth('2026-1')).toBe(false);
    expect(isMonth(undefined)).toBe(false);
  });

  it('names months', () => {
    expect(monthLabel('2026-11')).toBe('November 2026');
  });
});

describe('keyStatus', () => {
  const now = new Date('2026-11-23T12:00:00Z');

  it('puts revocation before expiry', () => {
    expect(
      keyStatus({ revokedAt: '2026-11-01T00:00:00Z', expiresAt: '2026-01-01T00:00:00Z' }, now),
    ).toBe('revoked');
  });

  it('marks a key past its expiry as expired', () => {
    expect(keyStatus({ revokedAt: null, expiresAt: '2026-11-23T11:59:59Z' }, now)).toBe('expired');
  });

  it('keeps an unexpired or never-expiring key active', () => {
    expect(keyStatus({ revokedAt: null, expiresAt: '2026-11-24T00:00:00Z' }, now)).toBe('active');
    expect(keyStatus({ revokedAt: null, expiresAt: null }, now)).toBe('active');
  });
});

describe('small formats', () => {
  it('groups counts and shortens ids', () => {
    expect(formatCount(1234567)).toBe('1,234,567');
    expect(formatCount(0)).toBe('0');
    expect(formatCount(Number.NaN)).toBe('—');
    expect(shortId('0b5c2f6e-1234-4bcd-8def-0123456789ab')).toBe('0b5c2f6e');
  });
});
