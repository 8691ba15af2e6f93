/**
 * Budget windows: the calendar day and month of an organisation's billing time zone. The ids name
 * the Redis counters (`…:d:2026-11-25`, `…:m:2026-11`), so a new window starts with fresh counters at
 * the boundary itself; the end instants give `Retry-After` and the counters' time to live.
 */
export interface AdmissionWindows {
  timeZone: string;
  /** local calendar date, `YYYY-MM-DD` */
  dayId: string;
  /** first instant (epoch ms) of the day */
  dayStart: number;
  /** first instant (epoch ms) of the next day */
  dayEnd: number;
  /** local calendar month, `YYYY-MM` */
  monthId: string;
  monthStart: number;
  monthEnd: number;
}

export class InvalidTimeZoneError extends Error {
  constructor(readonly timeZone: string) {
    super(`not an IANA time zone: ${JSON.stringify(timeZone)}`);
    this.name = 'InvalidTimeZoneError';
  }
}

interface LocalDate {
  y: number;
  m: number;
  d: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone,
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
        hourCycle: 'h23',
      });
    } catch {
      throw new InvalidTimeZoneError(timeZone);
    }
    if (formatters.size > 1000) formatters.clear();
    formatters.set(timeZone, f);
  }
  return f;
}

let knownZones: Map<string, string> | undefined;

/**
 * The name to store for an IANA time zone, or an error when Intl does not know it. Spelling is
 * taken from Intl's list where the name is in it (`europe/berlin` → `Europe/Berlin`); other names
 * Intl accepts (current names it lists under an older alias, e.g. `Asia/Kolkata`) are kept as given,
 * since ICU's own canonical form would rename them to the alias.
 */
export function canonicalTimeZone(timeZone: string): string {
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/.test(timeZone)) throw new InvalidTimeZoneError(timeZone);
  formatter(timeZone);
  knownZones ??= new Map(
    [...Intl.supportedValuesOf('timeZone'), 'UTC'].map((z) => [z.toLowerCase(), z]),
  );
  return knownZones.get(timeZone.toLowerCase()) ?? timeZone;
}

interface LocalParts extends LocalDate {
  hh: number;
  mm: number;
  ss: number;
}

const PART_FIELD: Partial<Record<Intl.DateTimeFormatPartTypes, keyof LocalParts>> = {
  year: 'y',
  month: 'm',
  day: 'd',
  hour: 'hh',
  minute: 'mm',
  second: 'ss',
};

function localParts(timeZone: string, at: number): LocalParts {
  const out = { y: 0, m: 0, d: 0, hh: 0, mm: 0, ss: 0 };
  for (const p of formatter(timeZone).formatToParts(at)) {
    const field = PART_FIELD[p.type];
    if (field !== undefined) out[field] = Number(p.value);
  }
  return out;
}

/** Comparable number for a local date: 20261125. */
const dateKey = (x: LocalDate): number => x.y * 10_000 + x.m * 100 + x.d;

/** The local wall clock of `at`, read as if it were UTC, minus `at`: the zone's offset then. */
function offsetMs(timeZone: string, at: number): number {
  const p = localParts(timeZone, at);
  const wall = Date.UTC(p.y, p.m - 1, p.d, p.hh, p.mm, p.ss);
  return wall - (at - (((at % 1000) + 1000) % 1000));
}

/** Normalises y/m/d that may overflow (day 32, month 13) through the proleptic calendar. */
function normalise(y: number, m: number, d: number): LocalDate {
  const t = new Date(Date.UTC(y, m - 1, d));
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() };
}

/**
 * The first instant whose local date is `date`. Usually local midnight; where midnight does not
 * exist (a DST jump at 00:00, e.g. America/Santiago) it is the first instant after the gap.
 */
export function startOfLocalDate(timeZone: string, date: LocalDate): number {
  const target = dateKey(date);
  const wall = Date.UTC(date.y, date.m - 1, date.d);
  let t = wall - offsetMs(timeZone, wall);
  t = wall - offsetMs(timeZone, t);
  const isStart = (x: number) =>
    dateKey(localParts(timeZone, x)) >= target && dateKey(localParts(timeZone, x - 1)) < target;
  if (isStart(t)) return t;
  // Offsets are within ±26 h: the boundary lies in this range. Find the first instant on `date`.
  let lo = wall - 27 * 3_600_000; // before the date everywhere
  let hi = wall + 27 * 3_600_000; // on or after the date everywhere
  for (let i = 0; i < 64 && hi - lo > 1; i++) {
    const mid = Math.floor((lo + hi) / 2);
    if (dateKey(localParts(timeZone, mid)) >= target) hi = mid;
    else lo = mid;
  }
  return hi;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** Computes the windows containing `at` in `timeZone` (no cache). */
export function computeWindows(timeZone: string, at: number): AdmissionWindows {
  if (!Number.isFinite(at)) throw new RangeError('at must be a finite epoch-ms instant');
  const p = localParts(timeZone, at);
  const next = normalise(p.y, p.m, p.d + 1);
  const nextMonth = normalise(p.y, p.m + 1, 1);
  return {
    timeZone,
    dayId: `${pad(p.y, 4)}-${pad(p.m)}-${pad(p.d)}`,
    dayStart: startOfLocalDate(timeZone, p),
    dayEnd: startOfLocalDate(timeZone, next),
    monthId: `${pad(p.y, 4)}-${pad(p.m)}`,
    monthStart: startOfLocalDate(timeZone, { y: p.y, m: p.m, d: 1 }),
    monthEnd: startOfLocalDate(timeZone, nextMonth),
  };
}

/**
 * Windows with a per-zone cache: the hot path computes them once per zone and day, then answers
 * from memory until the day ends (or a clock passed in lies outside the cached day).
 */
export class WindowCalculator {
  private readonly cache = new Map<string, AdmissionWindows>();

  constructor(private readonly maxZones = 500) {}

  at(timeZone: string, now: number): AdmissionWindows {
    const hit = this.cache.get(timeZone);
    if (hit && now >= hit.dayStart && now < hit.dayEnd) return hit;
    const w = computeWindows(timeZone, now);
    if (this.cache.size >= this.maxZones) this.cache.clear();
    this.cache.set(timeZone, w);
    return w;
  }
}
