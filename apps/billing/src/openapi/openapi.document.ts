/**
 * The billing API's OpenAPI document, written by hand next to the code it describes; a test compares
 * its paths with the routes the running app actually serves.
 */
import { ALERTS_OPENAPI_PATHS } from '../alerts/alerts.openapi';
import { CREDITS_OPENAPI_PATHS } from '../credits/credits.openapi';

const problem = { $ref: '#/components/responses/Problem' };
const ref = (name: string): { $ref: string } => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object): object => ({ 'application/json': { schema } });

const pageParams = [
  {
    name: 'limit',
    in: 'query',
    schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
  },
  {
    name: 'cursor',
    in: 'query',
    schema: { type: 'string', maxLength: 512 },
    description: 'nextCursor of the previous page',
  },
];
const orgIdParam = { name: 'orgId', in: 'path', required: true, schema: { type: 'string' } };
const modelParam = {
  name: 'model',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^[\\x21-\\x7E]{1,200}$' },
  description: 'public (requested) model name; URL-encode `/` as %2F',
};
const usd = { type: 'string', pattern: '^(0|[1-9]\\d{0,11})(\\.\\d{1,9})?$', examples: ['2.50'] };
const spendReaders =
  'Needs role owner, admin or finance in the organisation (404 for non-members, 403 for other roles).';
const health = (summary: string): object => ({
  get: {
    summary,
    security: [],
    responses: { '200': { description: 'ok', content: json(ref('Health')) }, '503': problem },
  },
});

export const BILLING_OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: {
    title: 'Tollgate billing API',
    version: '1.0.0',
    description:
      'Price book, usage ledger and spend reports. Money is a decimal string of US dollars. Errors are application/problem+json.',
  },
  servers: [{ url: '/' }],
  security: [{ bearer: [] }],
  paths: {
    ...CREDITS_OPENAPI_PATHS,
    ...ALERTS_OPENAPI_PATHS,
    '/api/v1/admin/prices': {
      get: {
        summary: 'Current price of every model (platform admins)',
        parameters: pageParams,
        responses: {
          '200': { description: 'a page of prices', content: json(ref('PricePage')) },
          '400': problem,
          '401': problem,
          '403': problem,
        },
      },
    },
    '/api/v1/admin/prices/{model}': {
      put: {
        summary:
          'Set a model price (platform admins); a change adds a version, the same prices again add nothing',
        parameters: [modelParam],
        requestBody: { required: true, content: json(ref('PutPriceRequest')) },
        responses: {
          '200': { description: 'the current price', content: json(ref('Price')) },
          '400': problem,
          '401': problem,
          '403': problem,
          '503': problem,
        },
      },
    },
    '/api/v1/admin/prices/{model}/versions': {
      get: {
        summary: 'Price history of one model, newest first (platform admins)',
        parameters: [modelParam, ...pageParams],
        responses: {
          '200': { description: 'a page of versions', content: json(ref('PricePage')) },
          '400': problem,
          '401': problem,
          '403': problem,
          '404': problem,
        },
      },
    },
    '/api/v1/orgs/{orgId}/usage': {
      get: {
        summary: 'Usage ledger of an organisation, newest first',
        description: spendReaders,
        parameters: [
          orgIdParam,
          ...pageParams,
          { name: 'tenantId', in: 'query', schema: { type: 'string' } },
          { name: 'keyId', in: 'query', schema: { type: 'string' } },
          {
            name: 'model',
            in: 'query',
            schema: { type: 'string' },
            description: 'requested model name',
          },
          {
            name: 'from',
            in: 'query',
            schema: { type: 'string', format: 'date-time' },
            description: 'inclusive',
          },
          {
            name: 'to',
            in: 'query',
            schema: { type: 'string', format: 'date-time' },
            description: 'exclusive',
          },
        ],
        responses: {
          '200': { description: 'a page of usage records', content: json(ref('UsagePage')) },
          '400': problem,
          '401': problem,
          '403': problem,
          '404': problem,
        },
      },
    },
    '/api/v1/orgs/{orgId}/reports/monthly': {
      get: {
        summary: 'Spend of one UTC calendar month per tenant, key and model',
        description: `${spendReaders} CSV with format=csv or Accept: text/csv.`,
        parameters: [
          orgIdParam,
          {
            name: 'month',
            in: 'query',
            required: true,
            schema: { type: 'string', pattern: '^\\d{4}-(0[1-9]|1[0-2])$' },
          },
          { name: 'format', in: 'query', schema: { type: 'string', enum: ['json', 'csv'] } },
        ],
        responses: {
          '200': {
            description: 'the report',
            content: {
              ...json(ref('MonthlyReport')),
              'text/csv': {
                schema: { type: 'string' },
                description:
                  'header month,tenant_id,tenant_name,key_id,key_name,model,requests,unpriced_requests,input_tokens,output_tokens,cost_usd',
              },
            },
          },
          '400': problem,
          '401': problem,
          '403': problem,
          '404': problem,
        },
      },
    },
    '/api/v1/openapi.json': {
      get: {
        summary: 'This document',
        security: [],
        responses: { '200': { description: 'OpenAPI 3.1 document' } },
      },
    },
    '/health/live': health('Liveness (checks nothing)'),
    '/health/ready': health('Readiness: PostgreSQL and Redis'),
  },
  components: {
    securitySchemes: {
      bearer: {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description: 'access token from accounts',
      },
    },
    responses: {
      Problem: {
        description: 'error',
        content: { 'application/problem+json': { schema: ref('Problem') } },
      },
    },
    schemas: {
      Problem: {
        type: 'object',
        required: ['type', 'title', 'status', 'code'],
        properties: {
          type: { type: 'string' },
          title: { type: 'string' },
          status: { type: 'integer' },
          code: { type: 'string' },
          detail: { type: 'string' },
          errors: { type: 'array', items: { type: 'string' } },
        },
      },
      PutPriceRequest: {
        type: 'object',
        additionalProperties: false,
        required: ['inputUsdPerMTok', 'outputUsdPerMTok'],
        properties: { inputUsdPerMTok: usd, outputUsdPerMTok: usd },
      },
      Price: {
        type: 'object',
        required: ['model', 'inputUsdPerMTok', 'outputUsdPerMTok', 'version', 'updatedAt'],
        properties: {
          model: { type: 'string' },
          inputUsdPerMTok: usd,
          outputUsdPerMTok: usd,
          version: { type: 'integer' },
          updatedAt: { type: 'string', format: 'date-time' },
        },
      },
      PricePage: {
        type: 'object',
        required: ['items', 'nextCursor'],
        properties: {
          items: { type: 'array', items: ref('Price') },
          nextCursor: { type: ['string', 'null'] },
        },
      },
      UsageRecord: {
        type: 'object',
        properties: {
          requestId: { type: 'string' },
          occurredAt: { type: 'string', format: 'date-time' },
          tenantId: { type: 'string' },
          keyId: { type: 'string' },
          model: { type: 'string' },
          upstreamModel: { type: ['string', 'null'] },
          endpoint: { type: 'string' },
          stream: { type: 'boolean' },
          outcome: { type: 'string', enum: ['ok', 'upstream_error', 'client_aborted', 'rejected'] },
          httpStatus: { type: 'integer' },
          inputTokens: { type: 'integer' },
          outputTokens: { type: 'integer' },
          cachedInputTokens: { type: 'integer' },
          costUsd: usd,
          priced: { type: 'boolean' },
        },
      },
      UsagePage: {
        type: 'object',
        required: ['items', 'nextCursor'],
        properties: {
          items: { type: 'array', items: ref('UsageRecord') },
          nextCursor: { type: ['string', 'null'] },
        },
      },
      MonthlyReportLine: {
        type: 'object',
        properties: {
          tenantId: { type: 'string' },
          tenantName: { type: ['string', 'null'] },
          keyId: { type: 'string' },
          keyName: { type: ['string', 'null'] },
          model: { type: 'string' },
          requests: { type: 'integer' },
          unpricedRequests: { type: 'integer' },
          inputTokens: { type: 'integer' },
          outputTokens: { type: 'integer' },
          costUsd: usd,
        },
      },
      MonthlyReport: {
        type: 'object',
        properties: {
          organisationId: { type: 'string' },
          month: { type: 'string' },
          currency: { const: 'USD' },
          totalCostUsd: usd,
          lines: { type: 'array', items: ref('MonthlyReportLine') },
        },
      },
      Health: {
        type: 'object',
        properties: {
          status: { const: 'ok' },
          checks: { type: 'object', additionalProperties: { const: 'up' } },
        },
      },
    },
  },
} as const;
