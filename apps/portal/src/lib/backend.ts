/**
 * Typed calls to the accounts and billing APIs. Only types come from @tollgate/contracts, so the
 * portal bundle never pulls class-validator in.
 */
import type {
  ApiKeyResponseDto,
  CreatedApiKeyResponseDto,
  MeResponseDto,
  MonthlyReportResponseDto,
  Page,
  SignupResponseDto,
  TenantResponseDto,
  TokenPairResponseDto,
  UsageRecordResponseDto,
} from '@tollgate/contracts';
import { callApi, requestJson, seg, type ApiRequest } from './api-client';
import { portalConfig } from './config';

export type Call = Omit<ApiRequest, 'service' | 'baseUrl' | 'timeoutMs'>;

/** A call to the accounts API, with the configured base URL and timeout. */
export function accounts<T>(call: Call): Promise<T> {
  const cfg = portalConfig();
  return requestJson<T>({
    ...call,
    service: 'accounts',
    baseUrl: cfg.accountsUrl,
    timeoutMs: cfg.backendTimeoutMs,
  });
}

/** A call to the billing API, with the configured base URL and timeout. */
export function billing<T>(call: Call): Promise<T> {
  const cfg = portalConfig();
  return requestJson<T>({
    ...call,
    service: 'billing',
    baseUrl: cfg.billingUrl,
    timeoutMs: cfg.backendTimeoutMs,
  });
}

export interface SignupInput {
  email: string;
  password: string;
  organisationName: string;
}

export interface CreateTenantInput {
  name: string;
  group?: string;
}

export interface CreateKeyInput {
  name: string;
  models?: string[];
  expiresAt?: string;
}

export const backend = {
  signup: (body: SignupInput) =>
    accounts<SignupResponseDto>({ method: 'POST', path: '/auth/signup', body }),
  login: (body: { email: string; password: string }) =>
    accounts<TokenPairResponseDto>({ method: 'POST', path: '/auth/login', body }),
  refresh: (refreshToken: string) =>
    accounts<TokenPairResponseDto>({
      method: 'POST',
      path: '/auth/refresh',
      body: { refreshToken },
    }),
  me: (token: string) => accounts<MeResponseDto>({ path: '/me', token }),

  listTenants: (token: string, orgId: string, page: { limit?: number; cursor?: string } = {}) =>
    accounts<Page<TenantResponseDto>>({ path: `/orgs/${seg(orgId)}/tenants`, token, query: page }),
  createTenant: (token: string, orgId: string, body: CreateTenantInput) =>
    accounts<TenantResponseDto>({
      method: 'POST',
      path: `/orgs/${seg(orgId)}/tenants`,
      token,
      body,
    }),
  getTenant: (token: string, tenantId: string) =>
    accounts<TenantResponseDto>({ path: `/tenants/${seg(tenantId)}`, token }),

  listKeys: (token: string, tenantId: string, page: { limit?: number; cursor?: string } = {}) =>
    accounts<Page<ApiKeyResponseDto>>({
      path: `/tenants/${seg(tenantId)}/keys`,
      token,
      query: page,
    }),
  createKey: (token: string, tenantId: string, body: CreateKeyInput) =>
    accounts<CreatedApiKeyResponseDto>({
      method: 'POST',
      path: `/tenants/${seg(tenantId)}/keys`,
      token,
      body,
    }),
  revokeKey: (token: string, keyId: string) =>
    accounts<void>({ method: 'DELETE', path: `/keys/${seg(keyId)}`, token }),

  listUsage: (token: string, orgId: string, page: { limit?: number; cursor?: string } = {}) =>
    billing<Page<UsageRecordResponseDto>>({
      path: `/orgs/${seg(orgId)}/usage`,
      token,
      query: page,
    }),
  monthlyReport: (token: string, orgId: string, month: string) =>
    billing<MonthlyReportResponseDto>({
      path: `/orgs/${seg(orgId)}/reports/monthly`,
      token,
      query: { month },
    }),
  /** The report as CSV; the caller streams the body through. */
  monthlyReportCsv: (token: string, orgId: string, month: string): Promise<Response> => {
    const cfg = portalConfig();
    return callApi({
      service: 'billing',
      baseUrl: cfg.billingUrl,
      timeoutMs: cfg.backendTimeoutMs,
      path: `/orgs/${seg(orgId)}/reports/monthly`,
      query: { month, format: 'csv' },
      accept: 'text/csv',
      token,
    });
  },
};
