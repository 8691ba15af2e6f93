import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { QueueName, type UsageRecordedJobData, UsageJobName } from '@tollgate/contracts';
import { bullConnection } from '@tollgate/server-kit';
import { Queue } from 'bullmq';
import { PROXY_CONFIG, type ProxyConfig } from '../config/proxy.config';
import { UsageBuffer, type UsageSink } from './usage-buffer';

const SHUTDOWN_FLUSH_MS = 10_000;
/** completed jobs are kept a day (at most this many) for inspection; failed ones are kept */
const KEEP_COMPLETED = { age: 24 * 3600, count: 100_000 };

/** The proxy's one typed producer of `usage.recorded.v1` jobs. */
export class BullUsageSink implements UsageSink {
  readonly queue: Queue<UsageRecordedJobData, void, UsageJobName>;

  constructor(config: ProxyConfig, onError: (err: Error) => void) {
    this.queue = new Queue<UsageRecordedJobData, void, UsageJobName>(QueueName.Usage, {
      // fail fast while Redis is away: the buffer keeps the events and retries
      connection: {
        ...bullConnection(config.REDIS_URL),
        enableOfflineQueue: false,
        connectionName: 'tollgate-proxy-usage',
      },
      prefix: config.TOLLGATE_QUEUE_PREFIX,
    });
    this.queue.on('error', onError);
    this.attempts = config.USAGE_JOB_ATTEMPTS;
  }

  private readonly attempts: number;

  async addBatch(events: readonly UsageRecordedJobData[]): Promise<void> {
    await this.queue.addBulk(
      events.map((data) => ({
        name: UsageJobName.Recorded,
        data,
        opts: {
          jobId: data.requestId,
          attempts: this.attempts,
          backoff: { type: 'exponential', delay: 1000 },
          removeOnComplete: KEEP_COMPLETED,
          removeOnFail: false,
        },
      })),
    );
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}

/**
 * Takes one usage event per request without ever making the response wait: events are buffered
 * and enqueued in batches on the BullMQ `usage` queue, retried while Redis cannot take them, and
 * flushed on shutdown.
 */
@Injectable()
export class UsageEmitter implements OnApplicationShutdown {
  private readonly logger = new Logger(UsageEmitter.name);
  private readonly sink: BullUsageSink;
  readonly buffer: UsageBuffer;
  private lastErrorLog = 0;

  constructor(@Inject(PROXY_CONFIG) config: ProxyConfig) {
    this.sink = new BullUsageSink(config, (err) => this.logError('usage queue', err));
    this.buffer = new UsageBuffer(this.sink, {
      maxEvents: config.USAGE_BUFFER_MAX_EVENTS,
      flushIntervalMs: config.USAGE_FLUSH_INTERVAL_MS,
      onDrop: (n) =>
        this.logError('usage buffer full, oldest event dropped', new Error(`${n} dropped so far`)),
      onSendError: (err) => this.logError('usage events kept for retry', err),
    });
  }

  private logError(what: string, err: unknown): void {
    const now = Date.now();
    if (now - this.lastErrorLog < 10_000) return;
    this.lastErrorLog = now;
    this.logger.error({
      msg: `${what}: ${err instanceof Error ? err.message : String(err)}`,
      buffered: this.buffer?.size,
    });
  }

  emit(event: UsageRecordedJobData): void {
    this.buffer.push(event);
  }

  private shutdown: Promise<void> | null = null;

  onApplicationShutdown(): Promise<void> {
    this.shutdown ??= this.flushAndClose();
    return this.shutdown;
  }

  private async flushAndClose(): Promise<void> {
    const left = await this.buffer.close(SHUTDOWN_FLUSH_MS);
    if (left > 0)
      this.logger.error({ msg: 'usage events could not be enqueued before exit', lost: left });
    await this.sink.close().catch(() => undefined);
  }
}
