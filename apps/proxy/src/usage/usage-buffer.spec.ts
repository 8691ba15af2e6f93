import type { UsageRecordedJobData } from '@tollgate/contracts';
import { UsageBuffer, type UsageSink } from './usage-buffer';

const event = (n: number) => ({ requestId: `request-${n}` }) as UsageRecordedJobData;

class FlakySink implements UsageSink {
  batches: string[][] = [];
  failuresLeft = 0;
  async addBatch(events: readonly UsageRecordedJobData[]): Promise<void> {
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      throw new Error('redis unavailable');
    }
    this.batches.push(events.map((e) => e.requestId));
  }
  get sent(): string[] {
    return this.batches.flat();
  }
}

describe('UsageBuffer', () => {
  afterEach(() => jest.useRealTimers());

  it('never waits on push and sends what gathered in one batch', async () => {
    jest.useFakeTimers();
    const sink = new FlakySink();
    const sut = new UsageBuffer(sink, { maxEvents: 100, flushIntervalMs: 10 });
    for (let i = 0; i < 5; i++) expect(sut.push(event(i))).toBeUndefined();
    expect(sink.batches).toEqual([]);
    await jest.advanceTimersByTimeAsync(10);
    expect(sink.batches).toEqual([
      ['request-0', 'request-1', 'request-2', 'request-3', 'request-4'],
    ]);
    expect(sut.size).toBe(0);
  });

  it('keeps events while the sink refuses and retries them, in order, with back-off', async () => {
    jest.useFakeTimers();
    const sink = new FlakySink();
    sink.failuresLeft = 3;
    const errors: unknown[] = [];
    const sut = new UsageBuffer(sink, {
      maxEvents: 100,
      flushIntervalMs: 1,
      onSendError: (e) => errors.push(e),
    });
    sut.push(event(1));
    sut.push(event(2));
    await jest.advanceTimersByTimeAsync(1);
    expect(sut.size).toBe(2);
    sut.push(event(3));
    await jest.advanceTimersByTimeAsync(5_000);
    expect(errors).toHaveLength(3);
    expect(sink.sent).toEqual(['request-1', 'request-2', 'request-3']);
  });

  it('drops the oldest events beyond its bound', () => {
    jest.useFakeTimers();
    const drops: number[] = [];
    const sut = new UsageBuffer(new FlakySink(), {
      maxEvents: 2,
      flushIntervalMs: 1000,
      onDrop: (n) => drops.push(n),
    });
    sut.push(event(1));
    sut.push(event(2));
    sut.push(event(3));
    expect(sut.size).toBe(2);
    expect(sut.dropped).toBe(1);
    expect(drops).toEqual([1]);
  });

  it('gives up on a send that hangs and retries it', async () => {
    jest.useFakeTimers();
    let calls = 0;
    const sink: UsageSink = {
      addBatch: () => (++calls === 1 ? new Promise<void>(() => undefined) : Promise.resolve()),
    };
    const sut = new UsageBuffer(sink, { maxEvents: 10, flushIntervalMs: 1, sendTimeoutMs: 50 });
    sut.push(event(1));
    await jest.advanceTimersByTimeAsync(200);
    expect(calls).toBe(2);
    expect(sut.size).toBe(0);
  });

  it('flushes everything on close, even before the interval', async () => {
    const sink = new FlakySink();
    sink.failuresLeft = 1;
    const sut = new UsageBuffer(sink, { maxEvents: 10, flushIntervalMs: 1000, maxBatch: 2 });
    for (let i = 0; i < 5; i++) sut.push(event(i));
    expect(await sut.close(2_000)).toBe(0);
    expect(sink.sent).toHaveLength(5);
  });

  it('reports what is left when the sink keeps refusing until the deadline', async () => {
    const sink = new FlakySink();
    sink.failuresLeft = 1_000;
    const sut = new UsageBuffer(sink, { maxEvents: 10, flushIntervalMs: 1000 });
    sut.push(event(1));
    expect(await sut.close(150)).toBe(1);
  });
});
