/** BullMQ queue names. The prefix is hash-tagged (see `queuePrefix`) so a queue fits one Redis Cluster slot. */
export enum QueueName {
  Usage = 'usage',
}

export enum UsageJobName {
  Recorded = 'usage.recorded.v1',
}

/** Default BullMQ prefix; `{…}` is a Redis Cluster hash tag. */
export const DEFAULT_QUEUE_PREFIX = '{tollgate}';
