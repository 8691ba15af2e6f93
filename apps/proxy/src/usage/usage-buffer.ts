import type { UsageRecordedJobData } from '@tollgate/contracts';

/** Where batches of usage events go (the BullMQ queue in the app; a stand-in in unit tests). */
export interface UsageSink {
  /** Enqueues every event or rejects; re-sending an event already taken is harmless (job id = request id). */
  addBatch(events: readonly UsageRecordedJobData[]): Promise<void>;
}

export interface UsageBufferOptions {
  maxEvents: number;
  /** how long events gather before one batched send */
  flushIntervalMs: number;
  maxBatch?: number;
  /** longest pause between retries while the sink refuses */
  maxBackoffMs?: number;
  /** one sending attempt is given up (and retried) after this long */
  sendTimeoutMs?: number;
  onDrop?: (dropped: number) => void;
  onSendError?: (err: unknown) => void;
}

/**
 * A bounded in-memory buffer between the response path and the queue: `push` never waits, events
 * go out in batches, and while the sink refuses they stay here (oldest dropped beyond `maxEvents`)
 * and are retried with exponential back-off.
 */
export class UsageBuffer {
  private events: UsageRecordedJobData[] = [];
  private timer: NodeJS.Timeout | null = null;
  private sending: Promise<void> | null = null;
  private backoffMs = 0;
  private closed = false;
  dropped = 0;

  constructor(
    private readonly sink: UsageSink,
    private readonly options: UsageBufferOptions,
  ) {}

  get size(): number {
    return this.events.length;
  }

  push(event: UsageRecordedJobData): void {
    if (this.events.length >= this.options.maxEvents) {
      this.events.shift();
      this.dropped++;
      this.options.onDrop?.(this.dropped);
    }
    this.events.push(event);
    this.schedule(this.options.flushIntervalMs);
  }

  private schedule(delayMs: number): void {
    if (this.timer !== null || this.sending !== null || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.sendOnce();
    }, delayMs);
  }

  private sendOnce(): Promise<void> {
    if (this.sending) return this.sending;
    if (this.events.length === 0) return Promise.resolve();
    const batch = this.events.splice(0, this.options.maxBatch ?? 500);
    this.sending = this.withTimeout(this.sink.addBatch(batch)).then(
      () => {
        this.backoffMs = 0;
      },
      (err: unknown) => {
        this.events.unshift(...batch);
        this.backoffMs = Math.min(
          this.options.maxBackoffMs ?? 5_000,
          Math.max(100, this.backoffMs * 2),
        );
        this.options.onSendError?.(err);
      },
    );
    return this.sending.finally(() => {
      this.sending = null;
      if (this.events.length > 0) this.schedule(this.backoffMs || this.options.flushIntervalMs);
    });
  }

  private withTimeout(p: Promise<void>): Promise<void> {
    const ms = this.options.sendTimeoutMs ?? 5_000;
    let t: NodeJS.Timeout | undefined;
    return Promise.race([
      p,
      new Promise<void>((_, reject) => {
        t = setTimeout(() => reject(new Error(`usage enqueue took longer than ${ms} ms`)), ms);
      }),
    ]).finally(() => clearTimeout(t));
  }

  /** Sends everything buffered, retrying until empty or `timeoutMs` passes; returns what is left. */
  async flush(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    for (
      let round = 0;
      round < 10_000 && this.events.length + (this.sending ? 1 : 0) > 0;
      round++
    ) {
      if (this.sending) await this.sending.catch(() => undefined);
      else await this.sendOnce();
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = null;
      }
      if (this.events.length === 0 || Date.now() >= deadline) break;
      if (this.backoffMs > 0)
        await new Promise((r) =>
          setTimeout(r, Math.min(this.backoffMs, Math.max(0, deadline - Date.now()))),
        );
    }
    return this.events.length;
  }

  /** Flushes, then stops scheduling. */
  async close(timeoutMs: number): Promise<number> {
    const left = await this.flush(timeoutMs);
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    return left;
  }
}
