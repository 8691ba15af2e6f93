/** OpenAPI paths of the budget alert routes, spread into the billing document. */
const problem = { $ref: '#/components/responses/Problem' };
const usd = { type: 'string', pattern: '^(0|[1-9]\\d{0,11})(\\.\\d{1,9})?$', examples: ['40.00'] };
const orgIdParam = { name: 'orgId', in: 'path', required: true, schema: { type: 'string' } };
const pageParams = [
  {
    name: 'limit',
    in: 'query',
    schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
  },
  { name: 'cursor', in: 'query', schema: { type: 'string', maxLength: 512 } },
];
const errors = { '400': problem, '401': problem, '403': problem, '404': problem };
const object = (properties: Record<string, object>, required?: string[]): object => ({
  type: 'object',
  properties,
  ...(required ? { required } : {}),
});
const json = (schema: object): object => ({ 'application/json': { schema } });
const thresholds = {
  type: 'array',
  items: { type: 'integer', minimum: 1, maximum: 1000 },
  maxItems: 10,
  uniqueItems: true,
  description: 'percent of each budget; default [50, 80, 100]',
};
const settings = object({
  organisationId: { type: 'string' },
  webhookUrl: { type: ['string', 'null'], format: 'uri' },
  thresholdsPercent: thresholds,
  configured: { type: 'boolean' },
  signingSecret: {
    type: 'string',
    description:
      'HMAC-SHA256 key (its UTF-8 bytes); only in the answer that created or rotated it, never again',
  },
  updatedAt: { type: ['string', 'null'], format: 'date-time' },
});
const alert = object({
  id: { type: 'string', format: 'uuid' },
  organisationId: { type: 'string' },
  scope: { enum: ['org', 'tenant', 'key', 'key-model', 'tenant-model'] },
  scopeId: {
    type: 'string',
    description: 'the org, tenant or key id (of a per-model scope: its key or tenant)',
  },
  model: {
    type: ['string', 'null'],
    description: 'the model of a key-model or tenant-model scope',
  },
  window: { enum: ['day', 'month', 'total'] },
  windowId: { type: 'string', examples: ['2026-11-25', '2026-11', 'total'] },
  thresholdPercent: { type: 'integer' },
  budgetUsd: usd,
  spentUsd: usd,
  createdAt: { type: 'string', format: 'date-time' },
  delivery: { enum: ['pending', 'delivered', 'failed', 'no_webhook'] },
  deliveryAttempts: { type: 'integer' },
  deliveredAt: { type: ['string', 'null'], format: 'date-time' },
  lastError: { type: ['string', 'null'] },
});
const readers = 'Owner, admin or finance (404 for non-members, 403 for other roles).';
const managers = 'Owner or admin (404 for non-members, 403 for other roles).';

export const ALERTS_OPENAPI_PATHS = {
  '/api/v1/orgs/{orgId}/alert-settings': {
    get: {
      summary: 'Budget alert settings (defaults until the first PUT)',
      description: readers,
      parameters: [orgIdParam],
      responses: { '200': { description: 'the settings', content: json(settings) }, ...errors },
    },
    put: {
      summary:
        'Set the alert webhook URL and thresholds; the first PUT returns the signing secret once',
      description: `${managers} Alerts are POSTed as JSON with \`x-tollgate-signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">\` and \`x-tollgate-event-id\`; non-2xx answers are retried with exponential back-off. Only public destinations: localhost, loopback, private and link-local addresses answer 400 \`alert_webhook_url_not_allowed\`.`,
      parameters: [orgIdParam],
      requestBody: {
        required: true,
        content: json(
          object(
            {
              webhookUrl: { type: ['string', 'null'], format: 'uri', maxLength: 2000 },
              thresholdsPercent: thresholds,
            },
            ['webhookUrl'],
          ),
        ),
      },
      responses: {
        '200': { description: 'the settings', content: json(settings) },
        ...errors,
        '503': problem,
      },
    },
  },
  '/api/v1/orgs/{orgId}/alert-settings/rotate-secret': {
    post: {
      summary: 'Replace the signing secret; the answer shows the new one, once',
      description: managers,
      parameters: [orgIdParam],
      responses: {
        '200': { description: 'the settings with signingSecret', content: json(settings) },
        ...errors,
        '503': problem,
      },
    },
  },
  '/api/v1/orgs/{orgId}/alerts': {
    get: {
      summary: 'Budget alerts raised, newest first, with their delivery state',
      description: readers,
      parameters: [orgIdParam, ...pageParams],
      responses: {
        '200': {
          description: 'a page of alerts',
          content: json(
            object({
              items: { type: 'array', items: alert },
              nextCursor: { type: ['string', 'null'] },
            }),
          ),
        },
        ...errors,
      },
    },
  },
};
