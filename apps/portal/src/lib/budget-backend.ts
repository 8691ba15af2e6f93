/**
 * Typed calls for budgets, rate limits, alerts and prepaid credit (accounts and billing APIs), beside
 * the core calls in backend.ts. Only types come from @tollgate/contracts.
 */
import type {
  AlertResponseDto,
  AlertSettingsResponseDto,
  BalanceResponseDto,
  CreditGrantResponseDto,
  LimitScope,
  LimitsResponseDto,
  ModelLimitScope,
  ModelLimitsListResponseDto,
  ModelLimitsResponseDto,
  LimitsStateResponseDto,
  OrganisationResponseDto,
  Page,
} from '@tollgate/contracts';
import { seg } from './api-client';
import type { AlertSettingsUpdate } from './alerts';
import { accounts, billing } from './backend';
import type { LimitsUpdate, OrgSettingsUpdate } from './limits';

/** `/orgs/{id}/limits`, `/tenants/{id}/limits` or `/keys/{id}/limits`. */
export function limitsPath(scope: LimitScope, id: string): string {
  switch (scope) {
    case 'org':
      return `/orgs/${seg(id)}/limits`;
    case 'tenant':
      return `/tenants/${seg(id)}/limits`;
    case 'key':
      return `/keys/${seg(id)}/limits`;
  }
}

/** `/tenants/{id}/limits/models` or `/keys/{id}/limits/models`, and one model under it. */
export function modelLimitsPath(scope: ModelLimitScope, id: string, model?: string): string {
  const base = `${limitsPath(scope, id)}/models`;
  return model === undefined ? base : `${base}/${seg(model)}`;
}

type PageQuery = { limit?: number; cursor?: string };

export const budgetBackend = {
  getOrganisation: (token: string, orgId: string) =>
    accounts<OrganisationResponseDto>({ path: `/orgs/${seg(orgId)}`, token }),
  updateOrganisation: (token: string, orgId: string, body: OrgSettingsUpdate) =>
    accounts<OrganisationResponseDto>({
      method: 'PATCH',
      path: `/orgs/${seg(orgId)}`,
      token,
      body,
    }),

  getLimits: (token: string, scope: LimitScope, id: string) =>
    accounts<LimitsStateResponseDto>({ path: limitsPath(scope, id), token }),
  putLimits: (token: string, scope: LimitScope, id: string, body: LimitsUpdate) =>
    accounts<LimitsResponseDto>({ method: 'PUT', path: limitsPath(scope, id), token, body }),

  listModelLimits: (token: string, scope: ModelLimitScope, id: string) =>
    accounts<ModelLimitsListResponseDto>({ path: modelLimitsPath(scope, id), token }),
  putModelLimits: (
    token: string,
    scope: ModelLimitScope,
    id: string,
    model: string,
    body: LimitsUpdate,
  ) =>
    accounts<ModelLimitsResponseDto>({
      method: 'PUT',
      path: modelLimitsPath(scope, id, model),
      token,
      body,
    }),
  deleteModelLimits: (token: string, scope: ModelLimitScope, id: string, model: string) =>
    accounts<void>({ method: 'DELETE', path: modelLimitsPath(scope, id, model), token }),

  getAlertSettings: (token: string, orgId: string) =>
    billing<AlertSettingsResponseDto>({ path: `/orgs/${seg(orgId)}/alert-settings`, token }),
  putAlertSettings: (token: string, orgId: string, body: AlertSettingsUpdate) =>
    billing<AlertSettingsResponseDto>({
      method: 'PUT',
      path: `/orgs/${seg(orgId)}/alert-settings`,
      token,
      body,
    }),
  rotateAlertSecret: (token: string, orgId: string) =>
    billing<AlertSettingsResponseDto>({
      method: 'POST',
      path: `/orgs/${seg(orgId)}/alert-settings/rotate-secret`,
      token,
    }),
  listAlerts: (token: string, orgId: string, page: PageQuery = {}) =>
    billing<Page<AlertResponseDto>>({ path: `/orgs/${seg(orgId)}/alerts`, token, query: page }),

  getBalance: (token: string, orgId: string) =>
    billing<BalanceResponseDto>({ path: `/orgs/${seg(orgId)}/balance`, token }),
  listCredits: (token: string, orgId: string, page: PageQuery = {}) =>
    billing<Page<CreditGrantResponseDto>>({
      path: `/orgs/${seg(orgId)}/credits`,
      token,
      query: page,
    }),
  redeem: (token: string, orgId: string, code: string) =>
    billing<CreditGrantResponseDto>({
      method: 'POST',
      path: `/orgs/${seg(orgId)}/redeem`,
      token,
      body: { code },
    }),
};
