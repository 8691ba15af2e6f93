import {
  canonicalTimeZone,
  computeWindows,
  InvalidTimeZoneError,
  WindowCalculator,
} from './windows';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const HOUR = 3_600_000;

/** The windows with instants as ISO strings, for readable expectations. */
function windows(timeZone: string, instant: string) {
  const w = computeWindows(timeZone, at(instant));
  return {
    dayId: w.dayId,
    dayStart: iso(w.dayStart),
    dayEnd: iso(w.dayEnd),
    monthId: w.monthId,
    monthStart: iso(w.monthStart),
    monthEnd: iso(w.monthEnd),
  };
}

describe('computeWindows', () => {
  it('uses calendar days and months of UTC', () => {
    expect(windows('UTC', '2026-11-25T13:00:00.000Z')).toEqual({
      dayId: '2026-11-25',
      dayStart: '2026-11-25T00:00:00.000Z',
      dayEnd: '2026-11-26T00:00:00.000Z',
      monthId: '2026-11',
      monthStart: '2026-11-01T00:00:00.000Z',
      monthEnd: '2026-12-01T00:00:00.000Z',
    });
  });

  it('follows the organisation’s zone: Berlin’s day and month start an hour before UTC’s in winter', () => {
    expect(windows('Europe/Berlin', '2026-11-25T13:00:00.000Z')).toEqual({
      dayId: '2026-11-25',
      dayStart: '2026-11-24T23:00:00.000Z',
      dayEnd: '2026-11-25T23:00:00.000Z',
      monthId: '2026-11',
      monthStart: '2026-10-31T23:00:00.000Z',
      monthEnd: '2026-11-30T23:00:00.000Z',
    });
  });

  it('puts one instant in different days and months depending on the zone', () => {
    const instant = '2026-11-30T23:30:00.000Z';

    expect(windows('UTC', instant)).toMatchObject({ dayId: '2026-11-30', monthId: '2026-11' });
    expect(windows('Europe/Berlin', instant)).toMatchObject({
      dayId: '2026-12-01',
      monthId: '2026-12',
    });
    expect(windows('America/Los_Angeles', instant)).toMatchObject({
      dayId: '2026-11-30',
      dayEnd: '2026-12-01T08:00:00.000Z',
    });
  });

  it('rolls over exactly at local midnight, to the millisecond', () => {
    const midnight = at('2026-11-25T23:00:00.000Z'); // 2026-11-26 00:00 in Berlin

    expect(computeWindows('Europe/Berlin', midnight - 1).dayId).toBe('2026-11-25');
    expect(computeWindows('Europe/Berlin', midnight).dayId).toBe('2026-11-26');
    expect(computeWindows('Europe/Berlin', midnight - 1).dayEnd).toBe(midnight);
    expect(computeWindows('Europe/Berlin', midnight).dayStart).toBe(midnight);
  });

  it('has a 23-hour day when DST starts and a 25-hour day when it ends (Berlin)', () => {
    const spring = computeWindows('Europe/Berlin', at('2026-03-29T12:00:00Z'));
    const autumn = computeWindows('Europe/Berlin', at('2026-10-25T12:00:00Z'));

    expect([iso(spring.dayStart), iso(spring.dayEnd)]).toEqual([
      '2026-03-28T23:00:00.000Z',
      '2026-03-29T22:00:00.000Z',
    ]);
    expect(spring.dayEnd - spring.dayStart).toBe(23 * HOUR);
    expect([iso(autumn.dayStart), iso(autumn.dayEnd)]).toEqual([
      '2026-10-24T22:00:00.000Z',
      '2026-10-25T23:00:00.000Z',
    ]);
    expect(autumn.dayEnd - autumn.dayStart).toBe(25 * HOUR);
    // the month that contains the switch is an hour short
    const march = computeWindows('Europe/Berlin', at('2026-03-10T00:00:00Z'));
    expect(march.monthEnd - march.monthStart).toBe(31 * 24 * HOUR - HOUR);
  });

  it('handles a DST jump at 2 am in New York', () => {
    expect(windows('America/New_York', '2026-03-08T12:00:00Z')).toMatchObject({
      dayStart: '2026-03-08T05:00:00.000Z',
      dayEnd: '2026-03-09T04:00:00.000Z',
    });
  });

  it('starts a day whose midnight does not exist at the first instant after the gap (Santiago)', () => {
    // 2026-09-06: clocks jump from 00:00 to 01:00 local
    const w = computeWindows('America/Santiago', at('2026-09-06T12:00:00Z'));

    expect(iso(w.dayStart)).toBe('2026-09-06T04:00:00.000Z');
    expect(computeWindows('America/Santiago', w.dayStart - 1).dayId).toBe('2026-09-05');
    expect(w.dayEnd - w.dayStart).toBe(23 * HOUR);
  });

  it('handles half-hour offsets and half-hour DST (Kolkata, Lord Howe)', () => {
    expect(windows('Asia/Kolkata', '2026-11-25T12:00:00Z').dayStart).toBe(
      '2026-11-24T18:30:00.000Z',
    );
    const lordHowe = computeWindows('Australia/Lord_Howe', at('2026-10-04T06:00:00Z'));
    expect(iso(lordHowe.dayStart)).toBe('2026-10-03T13:30:00.000Z');
    expect(lordHowe.dayEnd - lordHowe.dayStart).toBe(23.5 * HOUR);
  });

  it('handles the extreme offsets (+14 and −11)', () => {
    expect(windows('Pacific/Kiritimati', '2026-11-25T12:00:00Z')).toMatchObject({
      dayId: '2026-11-26',
      dayStart: '2026-11-25T10:00:00.000Z',
    });
    expect(windows('Pacific/Pago_Pago', '2026-11-25T12:00:00Z')).toMatchObject({
      dayId: '2026-11-25',
      dayStart: '2026-11-25T11:00:00.000Z',
    });
  });

  it('crosses years and leap days', () => {
    expect(windows('UTC', '2026-12-31T12:00:00Z')).toMatchObject({
      dayEnd: '2027-01-01T00:00:00.000Z',
      monthId: '2026-12',
      monthEnd: '2027-01-01T00:00:00.000Z',
    });
    expect(windows('UTC', '2028-02-29T12:00:00Z')).toMatchObject({
      dayId: '2028-02-29',
      monthEnd: '2028-03-01T00:00:00.000Z',
    });
  });

  it('always returns a window containing the instant, bounded by that local date (many zones)', () => {
    const zones = [
      'UTC',
      'Europe/Berlin',
      'America/Santiago',
      'Australia/Lord_Howe',
      'Asia/Kathmandu',
      'America/St_Johns',
      'Pacific/Chatham',
      'Africa/Casablanca',
    ];
    const start = at('2026-01-01T00:00:00Z');
    const failures: string[] = [];
    for (const zone of zones) {
      // every 7 hours 13 minutes across a year: hits every hour of the day and both DST switches
      for (let t = start; t < start + 366 * 24 * HOUR; t += 7 * HOUR + 13 * 60_000) {
        const w = computeWindows(zone, t);
        const ok =
          w.dayStart <= t &&
          t < w.dayEnd &&
          w.monthStart <= w.dayStart &&
          w.dayEnd <= w.monthEnd &&
          computeWindows(zone, w.dayStart).dayId === w.dayId &&
          computeWindows(zone, w.dayEnd - 1).dayId === w.dayId &&
          computeWindows(zone, w.dayEnd).dayId !== w.dayId &&
          computeWindows(zone, w.monthEnd - 1).monthId === w.monthId &&
          w.dayEnd - w.dayStart >= 22 * HOUR &&
          w.dayEnd - w.dayStart <= 26 * HOUR;
        if (!ok) failures.push(`${zone} ${iso(t)}`);
      }
    }

    expect(failures).toEqual([]);
  });

  it('refuses a zone Intl does not know', () => {
    expect(() => computeWindows('Mars/Olympus_Mons', Date.now())).toThrow(InvalidTimeZoneError);
  });
});

describe('canonicalTimeZone', () => {
  it.each([
    ['Europe/Berlin', 'Europe/Berlin'],
    ['europe/berlin', 'Europe/Berlin'],
    ['UTC', 'UTC'],
    ['utc', 'UTC'],
    ['Asia/Kolkata', 'Asia/Kolkata'],
    ['Europe/Kyiv', 'Europe/Kyiv'],
    ['Etc/GMT+5', 'Etc/GMT+5'],
  ])('accepts %s as %s', (input, expected) => {
    expect(canonicalTimeZone(input)).toBe(expected);
  });

  it.each(['', '+01:00', 'Mars/Base', 'Europe/Berlin; DROP', ' UTC', 'x'.repeat(65)])(
    'refuses %p',
    (input) => {
      expect(() => canonicalTimeZone(input)).toThrow(InvalidTimeZoneError);
    },
  );
});

describe('WindowCalculator', () => {
  it('answers from its cache within the day and recomputes outside it', () => {
    const sut = new WindowCalculator();
    const noon = at('2026-11-25T11:00:00Z');

    const first = sut.at('Europe/Berlin', noon);
    const later = sut.at('Europe/Berlin', noon + 5 * HOUR);
    const nextDay = sut.at('Europe/Berlin', first.dayEnd);
    const earlier = sut.at('Europe/Berlin', first.dayStart - 1);

    expect(later).toBe(first);
    expect(nextDay.dayId).toBe('2026-11-26');
    expect(earlier.dayId).toBe('2026-11-24');
  });

  it('keeps zones apart', () => {
    const sut = new WindowCalculator();
    const t = at('2026-11-25T23:30:00Z');

    expect(sut.at('UTC', t).dayId).toBe('2026-11-25');
    expect(sut.at('Europe/Berlin', t).dayId).toBe('2026-11-26');
    expect(sut.at('UTC', t).dayId).toBe('2026-11-25');
  });
});
