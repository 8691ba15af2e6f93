/**
 * Redis key layout of admission state. Every key of one organisation carries the hash tag
 * `{org:<orgId>}`, so the admission script for a request touches one Redis Cluster slot:
 *
 * ```
 * <P>adm:{org:O}:<S>:lim               hash   limit settings of scope S (absent field = unlimited)
 * <P>adm:{org:O}:<S>:d:<YYYY-MM-DD>    hash   {spent, reserved} nano-USD of that local day; TTL = day end + grace
 * <P>adm:{org:O}:<S>:m:<YYYY-MM>       hash   {spent, reserved} of that local month; TTL = month end + grace
 * <P>adm:{org:O}:<S>:tot               hash   {spent, reserved} since the beginning (no TTL)
 * <P>adm:{org:O}:<S>:rpm               zset   reservation id → admission time (ms): sliding 60 s log
 * <P>adm:{org:O}:<S>:tpm               zset   reservation id → admission time (ms)
 * <P>adm:{org:O}:<S>:tpmv              hash   reservation id → tokens counted, and `#sum` (their total)
 * <P>adm:{org:O}:<S>:conc              zset   reservation id → reservation expiry (ms): requests in flight
 * <P>adm:{org:O}:bal                   string prepaid balance of the organisation (absent = not prepaid)
 * <P>adm:{org:O}:tz                    string the organisation's billing time zone (IANA), for readers
 *                                              that only know the org id (billing's alerts, reconciliation)
 * <P>adm:{org:O}:r:<reservationId>     hash   the reservation record
 * <P>adm:{org:O}:rexp                  zset   reservation id → expiry (ms), for the sweeper
 * <P>adm:sweep                         zset   org id → latest reservation expiry (index of orgs to sweep;
 *                                              never touched by a script, so it needs no tag)
 * ```
 *
 * `<P>` is the configurable prefix (`tg:`), `<S>` is `o` (the organisation), `t:<tenantId>` or
 * `k:<keyId>`. Money is a decimal string of nano-USD.
 */

export type AdmissionScope =
  | { kind: 'org'; orgId: string }
  | { kind: 'tenant'; orgId: string; tenantId: string }
  | { kind: 'key'; orgId: string; keyId: string };

export type AdmissionScopeKind = AdmissionScope['kind'];

/** Ids end up inside key names: keep them to a safe alphabet (uuids, request ids). */
const ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function assertAdmissionId(what: string, id: string): void {
  if (!ID.test(id)) throw new RangeError(`${what} must match ${ID.source}`);
}

export function assertAdmissionPrefix(prefix: string): void {
  // A brace in the prefix would become the hash tag instead of `{org:…}`.
  if (/[{}]/.test(prefix)) throw new RangeError('the admission key prefix must not contain braces');
}

export const orgTag = (orgId: string): string => `{org:${orgId}}`;

export function scopeSegment(scope: AdmissionScope): string {
  switch (scope.kind) {
    case 'org':
      return 'o';
    case 'tenant':
      return `t:${scope.tenantId}`;
    case 'key':
      return `k:${scope.keyId}`;
  }
}

export const admissionKeys = {
  orgBase: (prefix: string, orgId: string): string => `${prefix}adm:${orgTag(orgId)}:`,
  limits: (prefix: string, scope: AdmissionScope): string =>
    `${admissionKeys.orgBase(prefix, scope.orgId)}${scopeSegment(scope)}:lim`,
  day: (prefix: string, scope: AdmissionScope, dayId: string): string =>
    `${admissionKeys.orgBase(prefix, scope.orgId)}${scopeSegment(scope)}:d:${dayId}`,
  month: (prefix: string, scope: AdmissionScope, monthId: string): string =>
    `${admissionKeys.orgBase(prefix, scope.orgId)}${scopeSegment(scope)}:m:${monthId}`,
  total: (prefix: string, scope: AdmissionScope): string =>
    `${admissionKeys.orgBase(prefix, scope.orgId)}${scopeSegment(scope)}:tot`,
  rpm: (prefix: string, scope: AdmissionScope): string =>
    `${admissionKeys.orgBase(prefix, scope.orgId)}${scopeSegment(scope)}:rpm`,
  tpm: (prefix: string, scope: AdmissionScope): string =>
    `${admissionKeys.orgBase(prefix, scope.orgId)}${scopeSegment(scope)}:tpm`,
  tpmTokens: (prefix: string, scope: AdmissionScope): string =>
    `${admissionKeys.orgBase(prefix, scope.orgId)}${scopeSegment(scope)}:tpmv`,
  concurrency: (prefix: string, scope: AdmissionScope): string =>
    `${admissionKeys.orgBase(prefix, scope.orgId)}${scopeSegment(scope)}:conc`,
  balance: (prefix: string, orgId: string): string => `${admissionKeys.orgBase(prefix, orgId)}bal`,
  timeZone: (prefix: string, orgId: string): string => `${admissionKeys.orgBase(prefix, orgId)}tz`,
  reservation: (prefix: string, orgId: string, reservationId: string): string =>
    `${admissionKeys.orgBase(prefix, orgId)}r:${reservationId}`,
  reservationExpiries: (prefix: string, orgId: string): string =>
    `${admissionKeys.orgBase(prefix, orgId)}rexp`,
  sweepIndex: (prefix: string): string => `${prefix}adm:sweep`,
};

const LIMITS_KEY =
  /^adm:\{org:([A-Za-z0-9._:-]{1,128})\}:(o|t:([A-Za-z0-9._:-]{1,128})|k:([A-Za-z0-9._:-]{1,128})):lim$/;

/** The scope a limits key belongs to (keys from SCAN), or undefined for any other key. */
export function parseLimitsKey(prefix: string, key: string): AdmissionScope | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const m = LIMITS_KEY.exec(key.slice(prefix.length));
  if (!m) return undefined;
  const orgId = m[1]!;
  if (m[2] === 'o') return { kind: 'org', orgId };
  if (m[3] !== undefined) return { kind: 'tenant', orgId, tenantId: m[3] };
  if (m[4] !== undefined) return { kind: 'key', orgId, keyId: m[4] };
  return undefined;
}

export interface ReservationKeyInput {
  orgId: string;
  tenantId: string;
  keyId: string;
  dayId: string;
  monthId: string;
  reservationId: string;
}

/** Per scope, in this order, in the key list of every admission script. */
export const KEYS_PER_SCOPE = 8;

/**
 * The 27 keys of one request, in the order the scripts expect: for key, tenant and organisation
 * (8 each) limits, day, month, total, rpm, tpm, tpm tokens, concurrency; then the balance, the
 * reservation record and the expiry index.
 */
export function reservationKeys(prefix: string, r: ReservationKeyInput): string[] {
  const scopes: AdmissionScope[] = [
    { kind: 'key', orgId: r.orgId, keyId: r.keyId },
    { kind: 'tenant', orgId: r.orgId, tenantId: r.tenantId },
    { kind: 'org', orgId: r.orgId },
  ];
  const keys: string[] = [];
  for (const s of scopes) {
    keys.push(
      admissionKeys.limits(prefix, s),
      admissionKeys.day(prefix, s, r.dayId),
      admissionKeys.month(prefix, s, r.monthId),
      admissionKeys.total(prefix, s),
      admissionKeys.rpm(prefix, s),
      admissionKeys.tpm(prefix, s),
      admissionKeys.tpmTokens(prefix, s),
      admissionKeys.concurrency(prefix, s),
    );
  }
  keys.push(
    admissionKeys.balance(prefix, r.orgId),
    admissionKeys.reservation(prefix, r.orgId, r.reservationId),
    admissionKeys.reservationExpiries(prefix, r.orgId),
  );
  return keys;
}
