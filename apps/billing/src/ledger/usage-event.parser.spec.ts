import { ProxyEndpoint, UsageOutcome, type UsageRecordedJobData } from '@tollgate/contracts';
import { InvalidUsageEventError, parseUsageEvent } from './usage-event.parser';

function event(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const base: UsageRecordedJobData = {
    schemaVersion: 1,
    requestId: 'req_0123456789',
    occurredAt: '2026-03-04T05:06:07.089Z',
    organisationId: 'org',
    tenantId: 'tenant',
    tenantName: null,
    keyId: 'key',
    keyName: null,
    channelId: null,
    provider: null,
    model: 'gpt-x',
    upstreamModel: null,
    endpoint: ProxyEndpoint.Embeddings,
    stream: false,
    outcome: UsageOutcome.Ok,
    httpStatus: 200,
    errorCode: null,
    inputTokens: 0,
    outputTokens: 0,
    cachedInputTokens: 0,
    tokensEstimated: true,
    latencyMs: 0,
    ttftMs: null,
    attempts: 1,
    reservedCostNanoUsd: '9223372036854775807',
  };
  return { ...base, ...overrides };
}

function problemsOf(data: unknown): string[] {
  try {
    parseUsageEvent(data);
  } catch (e) {
    if (e instanceof InvalidUsageEventError) return e.problems;
    throw e;
  }
  return [];
}

describe('parseUsageEvent', () => {
  it('accepts a valid event, nulls and the largest bigint included', () => {
    const sut = parseUsageEvent(event());
    expect(sut.requestId).toBe('req_0123456789');
    expect(sut.reservedCostNanoUsd).toBe('9223372036854775807');
  });

  it('ignores fields it does not know (a producer may be newer)', () => {
    expect(() => parseUsageEvent(event({ addedLater: true }))).not.toThrow();
  });

  it.each([
    ['null', null],
    ['a string', 'event'],
    ['an array', [event()]],
  ])('refuses %s as job data', (_what, data) => {
    expect(problemsOf(data)).toEqual(['job data must be an object']);
  });

  it.each([
    ['schemaVersion', { schemaVersion: 2 }],
    ['requestId', { requestId: 'short' }],
    ['requestId', { requestId: 'has spaces in it' }],
    ['occurredAt', { occurredAt: '2026-02-30T00:00:00Z' }],
    ['occurredAt', { occurredAt: '1999-12-31T23:59:59Z' }],
    ['organisationId', { organisationId: '' }],
    ['tenantId', { tenantId: 42 }],
    ['model', { model: undefined }],
    ['model', { model: 'x'.repeat(513) }],
    ['endpoint', { endpoint: 'images' }],
    ['outcome', { outcome: 'maybe' }],
    ['stream', { stream: 'true' }],
    ['httpStatus', { httpStatus: 1000 }],
    ['inputTokens', { inputTokens: -1 }],
    ['outputTokens', { outputTokens: 1.5 }],
    ['cachedInputTokens', { cachedInputTokens: 2 ** 31 }],
    ['ttftMs', { ttftMs: -3 }],
    ['reservedCostNanoUsd', { reservedCostNanoUsd: '9223372036854775808' }],
    ['reservedCostNanoUsd', { reservedCostNanoUsd: 5 }],
  ])('names %s when it is invalid', (field, overrides) => {
    const problems = problemsOf(event(overrides));
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join('; ')).toContain(field);
  });
});
