import type {
  ChannelResponseDto,
  CreatedApiKeyResponseDto,
  ProblemDetails,
  TenantDetailResponseDto,
} from '@tollgate/contracts';
import {
  type AccountsTestApp,
  type ApiRequest,
  type SignedUp,
  startAccountsTestApp,
  uniqueEmail,
} from '../testing/accounts-test-app';

const ADMIN_PASSWORD = 'admin password for bad input';
const UNKNOWN = '00000000-0000-4000-8000-000000000000';

interface Case {
  label: string;
  method: string;
  path: string;
  request?: ApiRequest;
  /** who calls: the organisation owner (default), the platform admin, or nobody */
  as?: 'owner' | 'admin' | 'anonymous';
  status: number;
  code?: string;
}

describe('bad input on every endpoint (int)', () => {
  let sut: AccountsTestApp;
  let owner: SignedUp;
  let adminToken: string;
  let tenant: TenantDetailResponseDto;
  let key: CreatedApiKeyResponseDto;
  let channel: ChannelResponseDto;
  let existingMember: SignedUp;

  beforeAll(async () => {
    const adminEmail = uniqueEmail('admin');
    sut = await startAccountsTestApp('badinput', {
      TOLLGATE_ADMIN_EMAIL: adminEmail,
      TOLLGATE_ADMIN_PASSWORD: ADMIN_PASSWORD,
    });
    adminToken = await sut.login(adminEmail, ADMIN_PASSWORD);
    owner = await sut.signup();
    existingMember = await sut.signup();
    const org = owner.organisation.id;
    await sut.api('POST', `/api/v1/orgs/${org}/members`, {
      token: owner.accessToken,
      body: { email: existingMember.user.email, role: 'member' },
    });
    tenant = (
      await sut.api<TenantDetailResponseDto>('POST', `/api/v1/orgs/${org}/tenants`, {
        token: owner.accessToken,
        body: { name: 't' },
      })
    ).body;
    key = (
      await sut.api<CreatedApiKeyResponseDto>('POST', `/api/v1/tenants/${tenant.id}/keys`, {
        token: owner.accessToken,
        body: { name: 'k' },
      })
    ).body;
    channel = (
      await sut.api<ChannelResponseDto>('POST', '/api/v1/admin/channels', {
        token: adminToken,
        body: {
          name: 'c',
          type: 'openai',
          baseUrl: 'http://127.0.0.1:18000/v1',
          apiKey: 'sk',
          models: ['m'],
        },
      })
    ).body;
  });

  afterAll(async () => {
    await sut?.close();
  });

  const cases = (): Case[] => {
    const org = owner.organisation.id;
    const signup = { email: uniqueEmail('bad'), password: 'long enough pw', organisationName: 'x' };
    const channelBody = {
      name: 'c',
      type: 'openai',
      baseUrl: 'http://127.0.0.1:1/v1',
      apiKey: 'sk',
      models: ['m'],
    };
    const a = 'anonymous' as const;
    const admin = 'admin' as const;
    return [
      // auth
      {
        label: 'signup malformed JSON',
        method: 'POST',
        path: '/api/v1/auth/signup',
        request: { rawBody: '{"email":' },
        as: a,
        status: 400,
        code: 'malformed_json',
      },
      {
        label: 'signup empty body',
        method: 'POST',
        path: '/api/v1/auth/signup',
        request: {},
        as: a,
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'signup bad email',
        method: 'POST',
        path: '/api/v1/auth/signup',
        request: { body: { ...signup, email: 'not-an-email' } },
        as: a,
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'signup short password',
        method: 'POST',
        path: '/api/v1/auth/signup',
        request: { body: { ...signup, password: 'short' } },
        as: a,
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'signup wrong types',
        method: 'POST',
        path: '/api/v1/auth/signup',
        request: { body: { email: 1, password: true, organisationName: [] } },
        as: a,
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'signup unknown field',
        method: 'POST',
        path: '/api/v1/auth/signup',
        request: { body: { ...signup, isPlatformAdmin: true } },
        as: a,
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'signup blank organisation',
        method: 'POST',
        path: '/api/v1/auth/signup',
        request: { body: { ...signup, organisationName: '' } },
        as: a,
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'signup oversized body',
        method: 'POST',
        path: '/api/v1/auth/signup',
        request: { body: { ...signup, organisationName: 'x'.repeat(70_000) } },
        as: a,
        status: 413,
        code: 'payload_too_large',
      },
      {
        label: 'signup taken email',
        method: 'POST',
        path: '/api/v1/auth/signup',
        request: { body: { ...signup, email: owner.user.email } },
        as: a,
        status: 409,
        code: 'email_taken',
      },
      {
        label: 'signup as a form',
        method: 'POST',
        path: '/api/v1/auth/signup',
        request: {
          rawBody: 'email=a@b.test',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        },
        as: a,
        status: 400,
      },
      {
        label: 'login missing password',
        method: 'POST',
        path: '/api/v1/auth/login',
        request: { body: { email: owner.user.email } },
        as: a,
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'login malformed JSON',
        method: 'POST',
        path: '/api/v1/auth/login',
        request: { rawBody: 'nope' },
        as: a,
        status: 400,
        code: 'malformed_json',
      },
      {
        label: 'login wrong password',
        method: 'POST',
        path: '/api/v1/auth/login',
        request: { body: { email: owner.user.email, password: 'wrong wrong' } },
        as: a,
        status: 401,
        code: 'invalid_credentials',
      },
      {
        label: 'refresh missing token',
        method: 'POST',
        path: '/api/v1/auth/refresh',
        request: { body: {} },
        as: a,
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'refresh unknown token',
        method: 'POST',
        path: '/api/v1/auth/refresh',
        request: { body: { refreshToken: 'made-up' } },
        as: a,
        status: 401,
        code: 'invalid_refresh_token',
      },
      {
        label: 'refresh with an access token',
        method: 'POST',
        path: '/api/v1/auth/refresh',
        request: { body: { refreshToken: owner.accessToken } },
        as: a,
        status: 401,
        code: 'invalid_refresh_token',
      },
      {
        label: 'logout missing token',
        method: 'POST',
        path: '/api/v1/auth/logout',
        request: { body: { token: 'x' } },
        as: a,
        status: 400,
        code: 'validation_failed',
      },
      // me, orgs
      { label: 'me without token', method: 'GET', path: '/api/v1/me', as: a, status: 401 },
      {
        label: 'me with a tampered token',
        method: 'GET',
        path: '/api/v1/me',
        request: { token: `${owner.accessToken}x` },
        as: a,
        status: 401,
      },
      {
        label: 'orgs limit 0',
        method: 'GET',
        path: '/api/v1/orgs?limit=0',
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'orgs limit too big',
        method: 'GET',
        path: '/api/v1/orgs?limit=1000',
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'orgs limit not a number',
        method: 'GET',
        path: '/api/v1/orgs?limit=ten',
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'orgs garbage cursor',
        method: 'GET',
        path: '/api/v1/orgs?cursor=abc',
        status: 400,
        code: 'invalid_cursor',
      },
      {
        label: 'orgs unknown query',
        method: 'GET',
        path: '/api/v1/orgs?admin=true',
        status: 400,
        code: 'validation_failed',
      },
      { label: 'orgs without token', method: 'GET', path: '/api/v1/orgs', as: a, status: 401 },
      // members
      {
        label: 'members bad org id',
        method: 'GET',
        path: '/api/v1/orgs/not-a-uuid/members',
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'members unknown org',
        method: 'GET',
        path: `/api/v1/orgs/${UNKNOWN}/members`,
        status: 404,
        code: 'organisation_not_found',
      },
      {
        label: 'add member bad role',
        method: 'POST',
        path: `/api/v1/orgs/${org}/members`,
        request: { body: { email: existingMember.user.email, role: 'god' } },
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'add member bad email',
        method: 'POST',
        path: `/api/v1/orgs/${org}/members`,
        request: { body: { email: 'x', role: 'member' } },
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'add member unknown user',
        method: 'POST',
        path: `/api/v1/orgs/${org}/members`,
        request: { body: { email: uniqueEmail('ghost'), role: 'member' } },
        status: 404,
        code: 'user_not_found',
      },
      {
        label: 'add member twice',
        method: 'POST',
        path: `/api/v1/orgs/${org}/members`,
        request: { body: { email: existingMember.user.email, role: 'admin' } },
        status: 409,
        code: 'already_member',
      },
      {
        label: 'add member without token',
        method: 'POST',
        path: `/api/v1/orgs/${org}/members`,
        request: { body: { email: existingMember.user.email, role: 'admin' } },
        as: a,
        status: 401,
      },
      // tenants
      {
        label: 'tenants bad org id',
        method: 'GET',
        path: '/api/v1/orgs/1/tenants',
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'tenants unknown org',
        method: 'GET',
        path: `/api/v1/orgs/${UNKNOWN}/tenants`,
        status: 404,
        code: 'organisation_not_found',
      },
      {
        label: 'create tenant empty name',
        method: 'POST',
        path: `/api/v1/orgs/${org}/tenants`,
        request: { body: { name: '' } },
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'create tenant bad group',
        method: 'POST',
        path: `/api/v1/orgs/${org}/tenants`,
        request: { body: { name: 'x', group: 'Bad Group' } },
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'create tenant name too long',
        method: 'POST',
        path: `/api/v1/orgs/${org}/tenants`,
        request: { body: { name: 'x'.repeat(121) } },
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'create tenant unknown field',
        method: 'POST',
        path: `/api/v1/orgs/${org}/tenants`,
        request: { body: { name: 'x', organisationId: UNKNOWN } },
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'create tenant malformed JSON',
        method: 'POST',
        path: `/api/v1/orgs/${org}/tenants`,
        request: { rawBody: '{name: x}' },
        status: 400,
        code: 'malformed_json',
      },
      {
        label: 'create tenant unknown org',
        method: 'POST',
        path: `/api/v1/orgs/${UNKNOWN}/tenants`,
        request: { body: { name: 'x' } },
        status: 404,
        code: 'organisation_not_found',
      },
      {
        label: 'create tenant without token',
        method: 'POST',
        path: `/api/v1/orgs/${org}/tenants`,
        request: { body: { name: 'x' } },
        as: a,
        status: 401,
      },
      {
        label: 'tenant bad id',
        method: 'GET',
        path: '/api/v1/tenants/xyz',
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'tenant unknown',
        method: 'GET',
        path: `/api/v1/tenants/${UNKNOWN}`,
        status: 404,
        code: 'tenant_not_found',
      },
      {
        label: 'update tenant null name',
        method: 'PATCH',
        path: `/api/v1/tenants/${tenant.id}`,
        request: { body: { name: null } },
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'update tenant fallback as text',
        method: 'PATCH',
        path: `/api/v1/tenants/${tenant.id}`,
        request: { body: { allowFallback: 'no' } },
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'update tenant bad group',
        method: 'PATCH',
        path: `/api/v1/tenants/${tenant.id}`,
        request: { body: { group: '-x' } },
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'update tenant unknown',
        method: 'PATCH',
        path: `/api/v1/tenants/${UNKNOWN}`,
        request: { body: { name: 'x' } },
        status: 404,
        code: 'tenant_not_found',
      },
      // keys
      {
        label: 'keys bad tenant id',
        method: 'GET',
        path: '/api/v1/tenants/1/keys',
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'keys garbage cursor',
        method: 'GET',
        path: `/api/v1/tenants/${tenant.id}/keys?cursor=${Buffer.from('k1.x.y').toString('base64url')}`,
        status: 400,
        code: 'invalid_cursor',
      },
      {
        label: 'create key missing name',
        method: 'POST',
        path: `/api/v1/tenants/${tenant.id}/keys`,
        request: { body: {} },
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'create key models not a list',
        method: 'POST',
        path: `/api/v1/tenants/${tenant.id}/keys`,
        request: { body: { name: 'x', models: 'gpt-4o' } },
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'create key empty model name',
        method: 'POST',
        path: `/api/v1/tenants/${tenant.id}/keys`,
        request: { body: { name: 'x', models: [''] } },
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'create key bad expiry',
        method: 'POST',
        path: `/api/v1/tenants/${tenant.id}/keys`,
        request: { body: { name: 'x', expiresAt: 'tomorrow' } },
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'create key past expiry',
        method: 'POST',
        path: `/api/v1/tenants/${tenant.id}/keys`,
        request: { body: { name: 'x', expiresAt: '2001-01-01T00:00:00Z' } },
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'create key unknown tenant',
        method: 'POST',
        path: `/api/v1/tenants/${UNKNOWN}/keys`,
        request: { body: { name: 'x' } },
        status: 404,
        code: 'tenant_not_found',
      },
      {
        label: 'create key without token',
        method: 'POST',
        path: `/api/v1/tenants/${tenant.id}/keys`,
        request: { body: { name: 'x' } },
        as: a,
        status: 401,
      },
      {
        label: 'update key empty name',
        method: 'PATCH',
        path: `/api/v1/keys/${key.id}`,
        request: { body: { name: '' } },
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'update key past expiry',
        method: 'PATCH',
        path: `/api/v1/keys/${key.id}`,
        request: { body: { expiresAt: '2001-01-01T00:00:00Z' } },
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'update key unknown',
        method: 'PATCH',
        path: `/api/v1/keys/${UNKNOWN}`,
        request: { body: { name: 'x' } },
        status: 404,
        code: 'api_key_not_found',
      },
      {
        label: 'revoke key bad id',
        method: 'DELETE',
        path: '/api/v1/keys/tg-abc',
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'revoke key unknown',
        method: 'DELETE',
        path: `/api/v1/keys/${UNKNOWN}`,
        status: 404,
        code: 'api_key_not_found',
      },
      {
        label: 'revoke key without token',
        method: 'DELETE',
        path: `/api/v1/keys/${key.id}`,
        as: a,
        status: 401,
      },
      // channels
      {
        label: 'create channel missing credential',
        method: 'POST',
        path: '/api/v1/admin/channels',
        request: { body: { ...channelBody, apiKey: undefined } },
        as: admin,
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'create channel unknown type',
        method: 'POST',
        path: '/api/v1/admin/channels',
        request: { body: { ...channelBody, type: 'carrier-pigeon' } },
        as: admin,
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'create channel bad url',
        method: 'POST',
        path: '/api/v1/admin/channels',
        request: { body: { ...channelBody, baseUrl: 'ftp://x' } },
        as: admin,
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'create channel no models',
        method: 'POST',
        path: '/api/v1/admin/channels',
        request: { body: { ...channelBody, models: [] } },
        as: admin,
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'create channel bad mapping',
        method: 'POST',
        path: '/api/v1/admin/channels',
        request: { body: { ...channelBody, modelMapping: { m: 1 } } },
        as: admin,
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'create channel mapping as list',
        method: 'POST',
        path: '/api/v1/admin/channels',
        request: { body: { ...channelBody, modelMapping: ['m'] } },
        as: admin,
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'create channel negative weight',
        method: 'POST',
        path: '/api/v1/admin/channels',
        request: { body: { ...channelBody, weight: -1 } },
        as: admin,
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'create channel fractional priority',
        method: 'POST',
        path: '/api/v1/admin/channels',
        request: { body: { ...channelBody, priority: 1.5 } },
        as: admin,
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'create channel bad group',
        method: 'POST',
        path: '/api/v1/admin/channels',
        request: { body: { ...channelBody, groups: ['Not OK'] } },
        as: admin,
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'create channel without token',
        method: 'POST',
        path: '/api/v1/admin/channels',
        request: { body: channelBody },
        as: a,
        status: 401,
      },
      {
        label: 'channels garbage cursor',
        method: 'GET',
        path: '/api/v1/admin/channels?cursor=!!',
        as: admin,
        status: 400,
        code: 'invalid_cursor',
      },
      {
        label: 'channel bad id',
        method: 'GET',
        path: '/api/v1/admin/channels/abc',
        as: admin,
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'channel unknown',
        method: 'GET',
        path: `/api/v1/admin/channels/${UNKNOWN}`,
        as: admin,
        status: 404,
        code: 'channel_not_found',
      },
      {
        label: 'update channel bad status',
        method: 'PATCH',
        path: `/api/v1/admin/channels/${channel.id}`,
        request: { body: { status: 'paused' } },
        as: admin,
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'update channel null name',
        method: 'PATCH',
        path: `/api/v1/admin/channels/${channel.id}`,
        request: { body: { name: null } },
        as: admin,
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'update channel bad mapping',
        method: 'PATCH',
        path: `/api/v1/admin/channels/${channel.id}`,
        request: { body: { modelMapping: { m: '' } } },
        as: admin,
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'update channel unknown',
        method: 'PATCH',
        path: `/api/v1/admin/channels/${UNKNOWN}`,
        request: { body: { status: 'disabled' } },
        as: admin,
        status: 404,
        code: 'channel_not_found',
      },
      {
        label: 'channel events garbage cursor',
        method: 'GET',
        path: `/api/v1/admin/channels/${channel.id}/events?cursor=!!`,
        as: admin,
        status: 400,
        code: 'invalid_cursor',
      },
      {
        label: 'channel events unknown',
        method: 'GET',
        path: `/api/v1/admin/channels/${UNKNOWN}/events`,
        as: admin,
        status: 404,
        code: 'channel_not_found',
      },
      {
        label: 'test channel model as number',
        method: 'POST',
        path: `/api/v1/admin/channels/${channel.id}/test`,
        request: { body: { model: 42 } },
        as: admin,
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'test channel unknown',
        method: 'POST',
        path: `/api/v1/admin/channels/${UNKNOWN}/test`,
        request: { body: {} },
        as: admin,
        status: 404,
        code: 'channel_not_found',
      },
      // organisation settings
      {
        label: 'org bad id',
        method: 'GET',
        path: '/api/v1/orgs/not-a-uuid',
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'org unknown',
        method: 'GET',
        path: `/api/v1/orgs/${UNKNOWN}`,
        status: 404,
        code: 'organisation_not_found',
      },
      {
        label: 'update org unknown time zone',
        method: 'PATCH',
        path: `/api/v1/orgs/${org}`,
        request: { body: { billingTimeZone: 'Nowhere/Land' } },
        status: 400,
        code: 'validation_failed',
      },
      {
        label: 'update org fail-open as text',
        method: 'PATCH',
        path: `/api/v1/orgs/${org}`,
        request: { body: { admissionFailOpen: 'true' } },
        status: 400,
        code: 'validation_failed',
      },
      // limits
      ...(
        [
          [
            'org',
            `/api/v1/orgs/${org}/limits`,
            'organisation_not_found',
            `/api/v1/orgs/${UNKNOWN}/limits`,
          ],
          [
            'tenant',
            `/api/v1/tenants/${tenant.id}/limits`,
            'tenant_not_found',
            `/api/v1/tenants/${UNKNOWN}/limits`,
          ],
          [
            'key',
            `/api/v1/keys/${key.id}/limits`,
            'api_key_not_found',
            `/api/v1/keys/${UNKNOWN}/limits`,
          ],
        ] as const
      ).flatMap(([scope, path, notFound, unknownPath]): Case[] => [
        {
          label: `${scope} limits negative budget`,
          method: 'PUT',
          path,
          request: { body: { dailyBudgetUsd: '-1' } },
          status: 400,
          code: 'validation_failed',
        },
        {
          label: `${scope} limits budget beyond nano precision`,
          method: 'PUT',
          path,
          request: { body: { monthlyBudgetUsd: '0.0000000001' } },
          status: 400,
          code: 'validation_failed',
        },
        {
          label: `${scope} limits budget as a number`,
          method: 'PUT',
          path,
          request: { body: { totalBudgetUsd: 10 } },
          status: 400,
          code: 'validation_failed',
        },
        {
          label: `${scope} limits rpm as text`,
          method: 'PUT',
          path,
          request: { body: { rpm: '5' } },
          status: 400,
          code: 'validation_failed',
        },
        {
          label: `${scope} limits unknown`,
          method: 'PUT',
          path: unknownPath,
          request: { body: { rpm: 5 } },
          status: 404,
          code: notFound,
        },
        {
          label: `${scope} limits read unknown`,
          method: 'GET',
          path: unknownPath,
          status: 404,
          code: notFound,
        },
        {
          label: `${scope} limits without token`,
          method: 'GET',
          path,
          as: a,
          status: 401,
        },
      ]),
      // per-model limits of tenants and keys
      ...(
        [
          [
            'tenant',
            `/api/v1/tenants/${tenant.id}`,
            'tenant_not_found',
            `/api/v1/tenants/${UNKNOWN}`,
          ],
          ['key', `/api/v1/keys/${key.id}`, 'api_key_not_found', `/api/v1/keys/${UNKNOWN}`],
        ] as const
      ).flatMap(([scope, base, notFound, unknownBase]): Case[] => [
        {
          label: `${scope} model limits negative budget`,
          method: 'PUT',
          path: `${base}/limits/models/abc`,
          request: { body: { dailyBudgetUsd: '-1' } },
          status: 400,
          code: 'validation_failed',
        },
        {
          label: `${scope} model limits rpm as text`,
          method: 'PUT',
          path: `${base}/limits/models/abc`,
          request: { body: { rpm: '5' } },
          status: 400,
          code: 'validation_failed',
        },
        {
          label: `${scope} model limits unknown field`,
          method: 'PUT',
          path: `${base}/limits/models/abc`,
          request: { body: { rps: 5 } },
          status: 400,
          code: 'validation_failed',
        },
        {
          label: `${scope} model limits model with a space`,
          method: 'PUT',
          path: `${base}/limits/models/a%20b`,
          request: { body: { rpm: 5 } },
          status: 400,
          code: 'validation_failed',
        },
        {
          label: `${scope} model limits model with a newline`,
          method: 'GET',
          path: `${base}/limits/models/a%0Ab`,
          status: 400,
          code: 'validation_failed',
        },
        {
          label: `${scope} model limits model too long`,
          method: 'PUT',
          path: `${base}/limits/models/${'m'.repeat(201)}`,
          request: { body: { rpm: 5 } },
          status: 400,
          code: 'validation_failed',
        },
        {
          label: `${scope} model limits model starting with a dot`,
          method: 'DELETE',
          path: `${base}/limits/models/.hidden`,
          status: 400,
          code: 'validation_failed',
        },
        {
          label: `${scope} model limits bad scope id`,
          method: 'GET',
          path: `${base.replace(/[0-9a-f-]{36}$/, 'not-a-uuid')}/limits/models`,
          status: 400,
          code: 'validation_failed',
        },
        {
          label: `${scope} model limits unknown scope`,
          method: 'PUT',
          path: `${unknownBase}/limits/models/abc`,
          request: { body: { rpm: 5 } },
          status: 404,
          code: notFound,
        },
        {
          label: `${scope} model limits read unknown scope`,
          method: 'GET',
          path: `${unknownBase}/limits/models/abc`,
          status: 404,
          code: notFound,
        },
        {
          label: `${scope} model limits delete on unknown scope`,
          method: 'DELETE',
          path: `${unknownBase}/limits/models/abc`,
          status: 404,
          code: notFound,
        },
        {
          label: `${scope} model limits list of unknown scope`,
          method: 'GET',
          path: `${unknownBase}/limits/models`,
          status: 404,
          code: notFound,
        },
        {
          label: `${scope} model limits without token`,
          method: 'GET',
          path: `${base}/limits/models/abc`,
          as: a,
          status: 401,
        },
      ]),
      // unknown routes and methods
      {
        label: 'unknown route',
        method: 'GET',
        path: '/api/v1/nothing-here',
        as: a,
        status: 404,
        code: 'not_found',
      },
      {
        label: 'unknown route outside the prefix',
        method: 'GET',
        path: '/nothing',
        as: a,
        status: 404,
        code: 'not_found',
      },
      {
        label: 'wrong method',
        method: 'PUT',
        path: `/api/v1/keys/${key.id}`,
        status: 404,
        code: 'not_found',
      },
    ];
  };

  it('answers each with the right problem and changes nothing', async () => {
    const tokens = { owner: owner.accessToken, admin: adminToken, anonymous: undefined };
    const failures: string[] = [];
    for (const c of cases()) {
      const before = await sut.snapshot();
      const token = c.request?.token ?? tokens[c.as ?? 'owner'];
      const res = await sut.api<ProblemDetails>(c.method, c.path, { ...c.request, token });
      const after = await sut.snapshot();
      const problems: string[] = [];
      if (res.status !== c.status)
        problems.push(`status ${res.status} (${res.text.slice(0, 200)})`);
      if (!/^application\/problem\+json/.test(res.headers.get('content-type') ?? ''))
        problems.push(`content-type ${res.headers.get('content-type')}`);
      if (res.body?.status !== res.status) problems.push('body.status differs');
      if (typeof res.body?.title !== 'string' || typeof res.body?.type !== 'string')
        problems.push('not a problem document');
      if (c.code && res.body?.code !== c.code) problems.push(`code ${res.body?.code}`);
      if (after !== before) problems.push('state changed');
      if (problems.length) failures.push(`${c.label}: ${problems.join(', ')}`);
    }

    expect(failures).toEqual([]);
  });

  it('covers every documented operation', async () => {
    const doc = (
      await sut.api<{ paths: Record<string, Record<string, unknown>> }>(
        'GET',
        '/api/v1/openapi.json',
      )
    ).body;
    const covered = new Set(
      cases().map(
        (c) =>
          `${c.method} ${c.path.split('?')[0]!.replace(/[0-9a-f]{8}-[0-9a-f-]{27}|not-a-uuid|xyz|abc|tg-abc|\/1\//g, (m) => (m === '/1/' ? '/{id}/' : '{id}'))}`,
      ),
    );
    const normalise = (p: string) => p.replace(/\{[^}]+\}/g, '{id}');
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${normalise(path)}`),
    );
    const withInput = operations.filter((o) => !/openapi\.json|\/health\//.test(o));

    expect(withInput.length).toBeGreaterThanOrEqual(20);
    expect(withInput.filter((o) => !covered.has(o))).toEqual([]);
  });
});
