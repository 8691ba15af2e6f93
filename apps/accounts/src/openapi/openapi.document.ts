/**
 * The accounts API described by hand (OpenAPI 3.1). A test compares its paths with the routes the
 * application registers, so a new route without a description fails the build.
 */

type Schema = Record<string, unknown>;
type Operation = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const str = (extra: Schema = {}): Schema => ({ type: 'string', ...extra });
const uuid: Schema = { type: 'string', format: 'uuid' };
const instant: Schema = { type: 'string', format: 'date-time' };
const nullable = (schema: Schema): Schema => ({ oneOf: [schema, { type: 'null' }] });
const strings: Schema = { type: 'array', items: { type: 'string' } };
const roleEnum: Schema = { type: 'string', enum: ['owner', 'admin', 'finance', 'member'] };
const object = (
  properties: Record<string, Schema>,
  required: string[] = Object.keys(properties),
): Schema => ({
  type: 'object',
  properties,
  required,
  additionalProperties: false,
});
const channelType: Schema = str({ enum: ['openai', 'azure', 'anthropic', 'gemini'] });
const timeout = (max: number, what: string): Schema =>
  nullable({
    type: 'integer',
    minimum: 1,
    maximum: max,
    description: `ms ${what}; null or absent: the proxy's default`,
  });
/** the connection settings shared by create and update */
const channelSettings: Record<string, Schema> = {
  apiVersion: nullable(
    str({
      pattern: '^(\\d{4}-\\d{2}-\\d{2}(-[a-z0-9]+)?|v1|preview)$',
      description: 'Azure api-version; required for azure, refused for the other types',
    }),
  ),
  extraHeaders: nullable({
    type: 'object',
    additionalProperties: { type: 'string', minLength: 1, maxLength: 2000 },
    maxProperties: 20,
    description:
      'sent with every upstream request; not authorization, api-key, x-api-key, x-goog-api-key, ' +
      'cookie, host, content-*, hop-by-hop or proxy-* headers; at most 8192 characters in all',
  }),
  connectTimeoutMs: timeout(60_000, 'to connect'),
  firstByteTimeoutMs: timeout(600_000, 'until the first byte of the answer'),
  totalTimeoutMs: timeout(3_600_000, 'for the whole exchange'),
};
const page = (item: string): Schema =>
  object({
    items: { type: 'array', items: ref(item) },
    nextCursor: nullable(str({ description: 'opaque; null on the last page' })),
  });

const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ref('Problem') } },
});
const json = (description: string, schema: Schema) => ({
  description,
  content: { 'application/json': { schema } },
});
const body = (schema: string) => ({
  required: true,
  content: { 'application/json': { schema: ref(schema) } },
});
const pathParam = (name: string) => ({ name, in: 'path', required: true, schema: uuid });
const pageParams = [
  {
    name: 'limit',
    in: 'query',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
  },
  { name: 'cursor', in: 'query', required: false, schema: { type: 'string', maxLength: 512 } },
];

const errors = {
  400: problemResponse('Invalid input (validation_failed, malformed_json, invalid_cursor)'),
  401: problemResponse('Missing, invalid or expired access token'),
  403: problemResponse('Your role does not allow this'),
  404: problemResponse('Not found, or not in an organisation you belong to'),
};

function op(
  summary: string,
  tag: string,
  responses: Record<string, unknown>,
  extra: Operation = {},
): Operation {
  return {
    summary,
    tags: [tag],
    security: [{ bearer: [] }],
    responses: { ...responses, ...errors },
    ...extra,
  };
}

function publicOp(
  summary: string,
  tag: string,
  responses: Record<string, unknown>,
  extra: Operation = {},
): Operation {
  return {
    summary,
    tags: [tag],
    security: [],
    responses: { ...responses, 400: errors[400] },
    ...extra,
  };
}

const usdSchema = str({ pattern: '^(0|[1-9]\\d{0,11})(\\.\\d{1,9})?$', examples: ['2.50'] });
const limitFields: Record<string, Schema> = {
  dailyBudgetUsd: nullable(usdSchema),
  monthlyBudgetUsd: nullable(usdSchema),
  totalBudgetUsd: nullable(usdSchema),
  rpm: nullable({ type: 'integer' }),
  tpm: nullable({ type: 'integer' }),
  maxConcurrent: nullable({ type: 'integer' }),
};

/** GET and PUT of one scope's limits (organisation, tenant or key). */
function limitsPath(param: string, what: string) {
  return {
    get: op(
      `Budgets and rate limits of the ${what} with live spend per window (any role)`,
      'limits',
      {
        200: json('Settings and counters', ref('LimitsState')),
        503: problemResponse('dependency_unavailable (Redis)'),
      },
      { parameters: [pathParam(param)] },
    ),
    put: op(
      `Set (value), clear (null) or keep (absent) each limit of the ${what} (owner, admin)`,
      'limits',
      {
        200: json('All six settings, null where unset', ref('Limits')),
        503: problemResponse('projection_unavailable: saved, repeat the request'),
      },
      { parameters: [pathParam(param)], requestBody: body('LimitsRequest') },
    ),
  };
}

const modelPathParam = {
  name: 'model',
  in: 'path',
  required: true,
  description: 'public model name, URL-encoded (e.g. `meta-llama%2Fllama-3-8b`)',
  schema: str({ pattern: '^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}$', maxLength: 200 }),
};

/** List of the per-model limits of a tenant or key. */
function modelLimitsListPath(param: string, what: string) {
  return {
    get: op(
      `Every model with per-model limits on the ${what}, by name (any role)`,
      'limits',
      { 200: json('The models and their settings', ref('ModelLimitsList')) },
      { parameters: [pathParam(param)] },
    ),
  };
}

/** GET, PUT and DELETE of one model's limits on a tenant or key. */
function modelLimitsPath(param: string, what: string) {
  const parameters = [pathParam(param), modelPathParam];
  return {
    get: op(
      `Budgets and rate limits of one model on the ${what} (on top of the ${what}'s own) with live spend per window (any role)`,
      'limits',
      {
        200: json('Settings and counters', ref('ModelLimitsState')),
        503: problemResponse('dependency_unavailable (Redis)'),
      },
      { parameters },
    ),
    put: op(
      `Set (value), clear (null) or keep (absent) each limit of one model on the ${what} (owner, admin)`,
      'limits',
      {
        200: json('All six settings, null where unset', ref('ModelLimits')),
        503: problemResponse('projection_unavailable: saved, repeat the request'),
      },
      { parameters, requestBody: body('LimitsRequest') },
    ),
    delete: op(
      `Remove every limit of one model on the ${what}; idempotent (owner, admin)`,
      'limits',
      {
        204: { description: 'Removed (or there was nothing to remove)' },
        503: problemResponse('projection_unavailable: saved, repeat the request'),
      },
      { parameters },
    ),
  };
}

const schemas: Record<string, Schema> = {
  Problem: object(
    {
      type: str(),
      title: str(),
      status: { type: 'integer' },
      code: str({ description: 'stable machine-readable code' }),
      detail: str(),
      errors: strings,
    },
    ['type', 'title', 'status', 'code'],
  ),
  SignupRequest: object({
    email: str({ format: 'email', maxLength: 254 }),
    password: str({ minLength: 10, maxLength: 200 }),
    organisationName: str({ minLength: 1, maxLength: 120 }),
  }),
  LoginRequest: object({
    email: str({ format: 'email' }),
    password: str({ minLength: 1, maxLength: 200 }),
  }),
  RefreshRequest: object({ refreshToken: str({ maxLength: 512 }) }),
  TokenPair: object({
    accessToken: str({ description: 'HS256 JWT, 15 minutes' }),
    refreshToken: str({ description: 'opaque, single use: each refresh returns a new one' }),
  }),
  SignupResponse: object({
    accessToken: str(),
    refreshToken: str(),
    user: object({ id: uuid, email: str() }),
    organisation: object({ id: uuid, name: str() }),
  }),
  Me: object({
    id: uuid,
    email: str(),
    isPlatformAdmin: { type: 'boolean' },
    memberships: {
      type: 'array',
      items: object({ organisationId: uuid, organisationName: str(), role: roleEnum }),
    },
  }),
  Organisation: object({
    id: uuid,
    name: str(),
    billingTimeZone: str({ description: 'IANA time zone of budget days/months and statements' }),
    admissionFailOpen: {
      type: 'boolean',
      description: 'admit (unmetered) instead of refusing while the admission store is unreachable',
    },
    role: roleEnum,
    createdAt: instant,
  }),
  UpdateOrganisationRequest: object(
    {
      name: str({ minLength: 1, maxLength: 120 }),
      billingTimeZone: str({ description: 'IANA time zone, e.g. Europe/Berlin' }),
      admissionFailOpen: { type: 'boolean' },
    },
    [],
  ),
  LimitsRequest: object(
    {
      dailyBudgetUsd: nullable(usdSchema),
      monthlyBudgetUsd: nullable(usdSchema),
      totalBudgetUsd: nullable(usdSchema),
      rpm: nullable({ type: 'integer', minimum: 0, maximum: 1_000_000_000 }),
      tpm: nullable({ type: 'integer', minimum: 0, maximum: 1_000_000_000_000 }),
      maxConcurrent: nullable({ type: 'integer', minimum: 0, maximum: 1_000_000 }),
    },
    [],
  ),
  Limits: object(limitFields),
  LimitsState: object({
    ...limitFields,
    scope: str({ enum: ['org', 'tenant', 'key'] }),
    timeZone: str(),
    usage: object({
      day: ref('LimitWindow'),
      month: ref('LimitWindow'),
      total: object({ spentUsd: usdSchema, reservedUsd: usdSchema }),
      requestsLastMinute: { type: 'integer' },
      tokensLastMinute: { type: 'integer' },
      concurrent: { type: 'integer' },
    }),
  }),
  ModelLimits: object({ model: str(), ...limitFields }),
  ModelLimitsList: object({ items: { type: 'array', items: ref('ModelLimits') } }),
  ModelLimitsState: object({
    ...limitFields,
    scope: str({ enum: ['tenant', 'key'] }),
    model: str(),
    timeZone: str(),
    usage: object({
      day: ref('LimitWindow'),
      month: ref('LimitWindow'),
      total: object({ spentUsd: usdSchema, reservedUsd: usdSchema }),
      requestsLastMinute: { type: 'integer' },
      tokensLastMinute: { type: 'integer' },
      concurrent: { type: 'integer' },
    }),
  }),
  LimitWindow: object({
    id: str({ description: 'YYYY-MM-DD or YYYY-MM in the billing time zone' }),
    start: instant,
    end: instant,
    spentUsd: usdSchema,
    reservedUsd: usdSchema,
  }),
  Member: object({ userId: uuid, email: str(), role: roleEnum, createdAt: instant }),
  AddMemberRequest: object({ email: str({ format: 'email' }), role: roleEnum }),
  CreateTenantRequest: object(
    {
      name: str({ minLength: 1, maxLength: 120 }),
      group: str({ pattern: '^[a-z0-9][a-z0-9._-]{0,62}$', default: 'default' }),
    },
    ['name'],
  ),
  UpdateTenantRequest: object(
    {
      name: str({ minLength: 1, maxLength: 120 }),
      group: str({ pattern: '^[a-z0-9][a-z0-9._-]{0,62}$' }),
      allowFallback: { type: 'boolean' },
    },
    [],
  ),
  Tenant: object({
    id: uuid,
    name: str(),
    group: str(),
    organisationId: uuid,
    allowFallback: { type: 'boolean' },
    createdAt: instant,
  }),
  CreateApiKeyRequest: object(
    {
      name: str({ minLength: 1, maxLength: 120 }),
      models: { ...strings, maxItems: 200 },
      expiresAt: instant,
    },
    ['name'],
  ),
  UpdateApiKeyRequest: object(
    {
      name: str({ minLength: 1, maxLength: 120 }),
      models: nullable(strings),
      expiresAt: nullable(instant),
      allowFallback: { type: 'boolean' },
    },
    [],
  ),
  CreatedApiKey: object({
    id: uuid,
    name: str(),
    prefix: str(),
    key: str({ description: 'the secret, shown only here' }),
  }),
  ApiKey: object({
    id: uuid,
    name: str(),
    prefix: str(),
    tenantId: uuid,
    models: nullable(strings),
    expiresAt: nullable(instant),
    revokedAt: nullable(instant),
    allowFallback: { type: 'boolean' },
    createdByUserId: nullable(uuid),
    createdAt: instant,
  }),
  CreateChannelRequest: object(
    {
      name: str({ minLength: 1, maxLength: 120 }),
      type: channelType,
      baseUrl: str({
        format: 'uri',
        description:
          'OpenAI-compatible: up to the version (https://api.openai.com/v1); azure: the resource endpoint; ' +
          'anthropic: https://api.anthropic.com; gemini: https://generativelanguage.googleapis.com',
      }),
      apiKey: str({ description: 'stored encrypted, never returned', writeOnly: true }),
      models: { ...strings, minItems: 1 },
      modelMapping: { type: 'object', additionalProperties: { type: 'string' } },
      priority: { type: 'integer', minimum: -1000, maximum: 1000, default: 0 },
      weight: { type: 'integer', minimum: 0, maximum: 10000, default: 1 },
      groups: { ...strings, default: ['default'] },
      ...channelSettings,
    },
    ['name', 'type', 'baseUrl', 'apiKey', 'models'],
  ),
  UpdateChannelRequest: object(
    {
      name: str(),
      baseUrl: str({ format: 'uri' }),
      apiKey: str({ writeOnly: true }),
      models: { ...strings, minItems: 1 },
      modelMapping: { type: 'object', additionalProperties: { type: 'string' } },
      priority: { type: 'integer' },
      weight: { type: 'integer', minimum: 0 },
      groups: strings,
      status: str({
        enum: ['enabled', 'disabled'],
        description:
          '`enabled` also lifts a credential rejection; a new apiKey alone does not re-enable a channel',
      }),
      type: { ...channelType, description: 'leaving azure clears apiVersion' },
      ...channelSettings,
    },
    [],
  ),
  Channel: object({
    id: uuid,
    name: str(),
    type: str(),
    baseUrl: str(),
    models: strings,
    modelMapping: { type: 'object', additionalProperties: { type: 'string' } },
    priority: { type: 'integer' },
    weight: { type: 'integer' },
    groups: strings,
    status: str({ enum: ['enabled', 'disabled'] }),
    statusReason: nullable(
      str({ enum: ['admin', 'credentials_rejected'], description: 'why it is disabled' }),
    ),
    apiVersion: nullable(str()),
    extraHeaders: { type: 'object', additionalProperties: { type: 'string' } },
    connectTimeoutMs: nullable({ type: 'integer' }),
    firstByteTimeoutMs: nullable({ type: 'integer' }),
    totalTimeoutMs: nullable({ type: 'integer' }),
    createdAt: instant,
  }),
  ChannelEvent: object({
    id: uuid,
    channelId: uuid,
    kind: str({ enum: ['credentials_rejected', 'test'] }),
    detail: {
      type: 'object',
      description:
        'credentials_rejected: {status, reportedAt, credential (a fingerprint), previousStatus}; ' +
        'test: the test result plus upstreamModel and userId',
    },
    createdAt: instant,
  }),
  ChannelTestRequest: object(
    {
      model: str({
        maxLength: 200,
        description: "one of the channel's models; its first model when absent",
      }),
    },
    [],
  ),
  ChannelTestResult: object(
    {
      ok: { type: 'boolean' },
      status: nullable({
        type: 'integer',
        description: "the provider's HTTP status; null when no answer came",
      }),
      latencyMs: { type: 'integer' },
      model: str(),
      error: str({ description: 'what went wrong; provider secrets removed' }),
    },
    ['ok', 'status', 'latencyMs', 'model'],
  ),
  Health: { type: 'object', properties: { status: str() }, required: ['status'] },
};

export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: {
    title: 'Tollgate accounts API',
    version: '1.0.0',
    description:
      'Organisations, users, memberships, tenants, API keys and provider channels. Errors are ' +
      'application/problem+json. Lists take ?limit=&cursor= and answer {items, nextCursor}. A caller who is ' +
      'not a member of the organisation owning a resource gets 404; a member whose role is not enough gets 403.',
  },
  servers: [{ url: '/' }],
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    schemas,
  },
  paths: {
    '/api/v1/auth/signup': {
      post: publicOp(
        'Create a user and their organisation (the user becomes its owner)',
        'auth',
        { 201: json('Signed up', ref('SignupResponse')), 409: problemResponse('email_taken') },
        { requestBody: body('SignupRequest') },
      ),
    },
    '/api/v1/auth/login': {
      post: publicOp(
        'Exchange email and password for tokens',
        'auth',
        {
          200: json('Signed in', ref('TokenPair')),
          401: problemResponse('invalid_credentials'),
          429: problemResponse('too_many_login_attempts (see Retry-After)'),
        },
        { requestBody: body('LoginRequest') },
      ),
    },
    '/api/v1/auth/refresh': {
      post: publicOp(
        'Rotate a refresh token; presenting a rotated one revokes the whole session',
        'auth',
        {
          200: json('New tokens', ref('TokenPair')),
          401: problemResponse('invalid_refresh_token'),
        },
        { requestBody: body('RefreshRequest') },
      ),
    },
    '/api/v1/auth/logout': {
      post: publicOp(
        'End the session the refresh token belongs to',
        'auth',
        { 204: { description: 'Signed out' } },
        {
          requestBody: body('RefreshRequest'),
        },
      ),
    },
    '/api/v1/me': {
      get: op('The caller and their memberships', 'users', { 200: json('The caller', ref('Me')) }),
    },
    '/api/v1/orgs': {
      get: op(
        'Organisations the caller belongs to',
        'organisations',
        { 200: json('A page', page('Organisation')) },
        {
          parameters: pageParams,
        },
      ),
    },
    '/api/v1/orgs/{orgId}': {
      get: op(
        'An organisation with its settings (any role)',
        'organisations',
        { 200: json('The organisation', ref('Organisation')) },
        { parameters: [pathParam('orgId')] },
      ),
      patch: op(
        'Rename, set the billing time zone or admission fail-open (owner, admin)',
        'organisations',
        { 200: json('Updated', ref('Organisation')) },
        { parameters: [pathParam('orgId')], requestBody: body('UpdateOrganisationRequest') },
      ),
    },
    '/api/v1/orgs/{orgId}/limits': limitsPath('orgId', 'organisation'),
    '/api/v1/tenants/{tenantId}/limits': limitsPath('tenantId', 'tenant'),
    '/api/v1/keys/{keyId}/limits': limitsPath('keyId', 'key'),
    '/api/v1/tenants/{tenantId}/limits/models': modelLimitsListPath('tenantId', 'tenant'),
    '/api/v1/tenants/{tenantId}/limits/models/{model}': modelLimitsPath('tenantId', 'tenant'),
    '/api/v1/keys/{keyId}/limits/models': modelLimitsListPath('keyId', 'key'),
    '/api/v1/keys/{keyId}/limits/models/{model}': modelLimitsPath('keyId', 'key'),
    '/api/v1/orgs/{orgId}/members': {
      get: op(
        'Members (any role)',
        'organisations',
        { 200: json('A page', page('Member')) },
        {
          parameters: [pathParam('orgId'), ...pageParams],
        },
      ),
      post: op(
        'Add an existing user (owner, admin; only owners grant owner)',
        'organisations',
        { 201: json('Added', ref('Member')), 409: problemResponse('already_member') },
        { parameters: [pathParam('orgId')], requestBody: body('AddMemberRequest') },
      ),
    },
    '/api/v1/orgs/{orgId}/tenants': {
      get: op(
        'Tenants (any role)',
        'tenants',
        { 200: json('A page', page('Tenant')) },
        {
          parameters: [pathParam('orgId'), ...pageParams],
        },
      ),
      post: op(
        'Create a tenant (owner, admin)',
        'tenants',
        { 201: json('Created', ref('Tenant')) },
        {
          parameters: [pathParam('orgId')],
          requestBody: body('CreateTenantRequest'),
        },
      ),
    },
    '/api/v1/tenants/{tenantId}': {
      get: op(
        'A tenant (any role)',
        'tenants',
        { 200: json('The tenant', ref('Tenant')) },
        {
          parameters: [pathParam('tenantId')],
        },
      ),
      patch: op(
        'Update name, group or fallback (owner, admin)',
        'tenants',
        { 200: json('Updated', ref('Tenant')) },
        {
          parameters: [pathParam('tenantId')],
          requestBody: body('UpdateTenantRequest'),
        },
      ),
    },
    '/api/v1/tenants/{tenantId}/keys': {
      get: op(
        'Keys of a tenant, newest first, never the secret (any role)',
        'keys',
        { 200: json('A page', page('ApiKey')) },
        {
          parameters: [pathParam('tenantId'), ...pageParams],
        },
      ),
      post: op(
        'Issue a key; the secret is in this response only (owner, admin, member)',
        'keys',
        {
          201: json('Issued', ref('CreatedApiKey')),
        },
        { parameters: [pathParam('tenantId')], requestBody: body('CreateApiKeyRequest') },
      ),
    },
    '/api/v1/keys/{keyId}': {
      patch: op(
        'Rename, change models, expiry or fallback (owner, admin, or the member who created it)',
        'keys',
        {
          200: json('Updated', ref('ApiKey')),
        },
        { parameters: [pathParam('keyId')], requestBody: body('UpdateApiKeyRequest') },
      ),
      delete: op(
        'Revoke a key (owner, admin, or the member who created it); idempotent',
        'keys',
        {
          204: { description: 'Revoked' },
        },
        { parameters: [pathParam('keyId')] },
      ),
    },
    '/api/v1/admin/channels': {
      get: op(
        'Provider channels (platform admin)',
        'channels',
        { 200: json('A page', page('Channel')) },
        {
          parameters: pageParams,
        },
      ),
      post: op(
        'Connect a provider channel (platform admin); the credential is never returned',
        'channels',
        {
          201: json('Created', ref('Channel')),
        },
        { requestBody: body('CreateChannelRequest') },
      ),
    },
    '/api/v1/admin/channels/{channelId}': {
      get: op(
        'A channel (platform admin)',
        'channels',
        { 200: json('The channel', ref('Channel')) },
        {
          parameters: [pathParam('channelId')],
        },
      ),
      patch: op(
        'Update a channel, enable or disable it (platform admin)',
        'channels',
        { 200: json('Updated', ref('Channel')) },
        {
          parameters: [pathParam('channelId')],
          requestBody: body('UpdateChannelRequest'),
        },
      ),
    },
    '/api/v1/admin/channels/{channelId}/events': {
      get: op(
        'What happened to a channel, newest first: refused credentials, tests (platform admin)',
        'channels',
        { 200: json('A page', page('ChannelEvent')) },
        { parameters: [pathParam('channelId'), ...pageParams] },
      ),
    },
    '/api/v1/admin/channels/{channelId}/test': {
      post: op(
        'Send one real minimal request to the provider with the channel credential and record ' +
          'the result as a channel event (platform admin); 200 whatever the provider answered',
        'channels',
        { 200: json('The result', ref('ChannelTestResult')) },
        {
          parameters: [pathParam('channelId')],
          requestBody: {
            required: false,
            content: { 'application/json': { schema: ref('ChannelTestRequest') } },
          },
        },
      ),
    },
    '/api/v1/openapi.json': {
      get: {
        summary: 'This document',
        tags: ['meta'],
        security: [],
        responses: { 200: { description: 'OpenAPI 3.1' } },
      },
    },
    '/health/live': {
      get: {
        summary: 'Liveness: the process answers',
        tags: ['health'],
        security: [],
        responses: { 200: json('Alive', ref('Health')) },
      },
    },
    '/health/ready': {
      get: {
        summary: 'Readiness: PostgreSQL and Redis answer',
        tags: ['health'],
        security: [],
        responses: {
          200: json('Ready', ref('Health')),
          503: problemResponse('dependency_unavailable'),
        },
      },
    },
  },
} as const;
