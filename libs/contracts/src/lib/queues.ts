/** BullMQ queue names. The prefix is hash-tagged (see `queuePrefix`) so a queue fits one Redis Cluster slot. */
export enum QueueName {
  Usage = 'usage',
  /** budget alert webhook deliveries (billing → organisation's URL) */
  Alerts = 'alerts',
}

export enum UsageJobName {
  Recorded = 'usage.recorded.v1',
}

export enum AlertJobName {
  Deliver = 'alert.deliver.v1',
}

/** Default BullMQ prefix; `{…}` is a Redis Cluster hash tag. */
export const DEFAULT_QUEUE_PREFIX = '{tollgate}';
