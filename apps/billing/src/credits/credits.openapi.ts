/** OpenAPI paths of the credits routes, spread into the billing document. */
const problem = { $ref: '#/components/responses/Problem' };
const usd = { type: 'string', pattern: '^(0|[1-9]\\d{0,11})(\\.\\d{1,9})?$', examples: ['10.00'] };
const orgIdParam = { name: 'orgId', in: 'path', required: true, schema: { type: 'string' } };
const pageParams = [
  { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 200 } },
  { name: 'cursor', in: 'query', schema: { type: 'string', maxLength: 512 } },
];
const obj = (properties: Record<string, object>): object => ({
  'application/json': { schema: { type: 'object', properties } },
});
const grant = obj({
  id: { type: 'string' },
  organisationId: { type: 'string' },
  amountUsd: usd,
  source: { enum: ['grant', 'redemption'] },
  note: { type: ['string', 'null'] },
  createdAt: { type: 'string', format: 'date-time' },
});
const errors = { '400': problem, '401': problem, '403': problem, '404': problem };

export const CREDITS_OPENAPI_PATHS = {
  '/api/v1/admin/orgs/{orgId}/credits': {
    post: {
      summary: 'Credit the prepaid balance of an organisation (platform admins)',
      parameters: [orgIdParam],
      requestBody: {
        required: true,
        content: obj({ amountUsd: usd, note: { type: 'string', maxLength: 500 } }),
      },
      responses: { '201': { description: 'the credit', content: grant }, ...errors },
    },
  },
  '/api/v1/admin/redemption-codes': {
    post: {
      summary: 'Create redemption codes (platform admins); the plaintext codes are returned once',
      requestBody: {
        required: true,
        content: obj({
          amountUsd: usd,
          count: { type: 'integer', minimum: 1, maximum: 100 },
          expiresAt: { type: 'string', format: 'date-time' },
        }),
      },
      responses: {
        '201': { description: 'the codes', content: obj({ items: { type: 'array' } }) },
        ...errors,
      },
    },
  },
  '/api/v1/orgs/{orgId}/redeem': {
    post: {
      summary: 'Redeem a code for the organisation (owner); each code credits once',
      parameters: [orgIdParam],
      requestBody: { required: true, content: obj({ code: { type: 'string' } }) },
      responses: { '201': { description: 'the credit', content: grant }, ...errors },
    },
  },
  '/api/v1/orgs/{orgId}/balance': {
    get: {
      summary: 'Prepaid balance (owner, admin, finance)',
      parameters: [orgIdParam],
      responses: {
        '200': {
          description: 'balance',
          content: obj({
            prepaid: { type: 'boolean' },
            balanceUsd: usd,
            creditedUsd: usd,
            spentUsd: usd,
            liveBalanceUsd: { type: ['string', 'null'] },
          }),
        },
        ...errors,
      },
    },
  },
  '/api/v1/orgs/{orgId}/credits': {
    get: {
      summary: 'Credit history, newest first (owner, admin, finance)',
      parameters: [orgIdParam, ...pageParams],
      responses: {
        '200': {
          description: 'a page of credits',
          content: obj({ items: { type: 'array' }, nextCursor: { type: ['string', 'null'] } }),
        },
        ...errors,
      },
    },
  },
};
