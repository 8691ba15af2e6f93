import { OrgRole } from '@tollgate/contracts';

/**
 * Who may do what inside an organisation. A caller without a membership learns nothing (the
 * resource is "not found"); a member whose role is not enough is "forbidden".
 */
export type AccessDecision = 'allow' | 'not_found' | 'forbidden';

const ALL_ROLES: readonly OrgRole[] = [
  OrgRole.Owner,
  OrgRole.Admin,
  OrgRole.Finance,
  OrgRole.Member,
];

export const OrgAction: Readonly<
  Record<
    | 'Read'
    | 'ManageTenants'
    | 'CreateKeys'
    | 'ManageAnyKey'
    | 'ManageMembers'
    | 'ManageOrganisation'
    | 'ManageLimits',
    readonly OrgRole[]
  >
> = {
  /** read the organisation, its tenants, keys (never secrets) and members; finance is read-only */
  Read: ALL_ROLES,
  ManageTenants: [OrgRole.Owner, OrgRole.Admin],
  CreateKeys: [OrgRole.Owner, OrgRole.Admin, OrgRole.Member],
  /** any key of the organisation; members may still manage the keys they created */
  ManageAnyKey: [OrgRole.Owner, OrgRole.Admin],
  ManageMembers: [OrgRole.Owner, OrgRole.Admin],
  /** name, billing time zone, admission fail-open */
  ManageOrganisation: [OrgRole.Owner, OrgRole.Admin],
  /** budgets and rate limits of the organisation, its tenants and keys (everyone may read them) */
  ManageLimits: [OrgRole.Owner, OrgRole.Admin],
};

export function decideOrgAccess(
  role: OrgRole | undefined,
  allowed: readonly OrgRole[],
): AccessDecision {
  if (role === undefined) return 'not_found';
  return allowed.includes(role) ? 'allow' : 'forbidden';
}

/** Revoke or edit a key: owners and admins any key, members only the keys they created. */
export function decideKeyManagement(
  role: OrgRole | undefined,
  callerUserId: string,
  keyCreatedBy: string | null,
): AccessDecision {
  if (role === undefined) return 'not_found';
  if (OrgAction.ManageAnyKey.includes(role)) return 'allow';
  if (role === OrgRole.Member && keyCreatedBy !== null && keyCreatedBy === callerUserId)
    return 'allow';
  return 'forbidden';
}

/** Only an owner may make another owner; admins grant admin, finance and member. */
export function canGrantRole(granter: OrgRole, granted: OrgRole): boolean {
  if (granter === OrgRole.Owner) return true;
  return granter === OrgRole.Admin && granted !== OrgRole.Owner;
}
