/** Roles a user can hold in an organisation, most powerful first. */
export enum OrgRole {
  Owner = 'owner',
  Admin = 'admin',
  Finance = 'finance',
  Member = 'member',
}

export const ORG_ROLES: readonly OrgRole[] = [OrgRole.Owner, OrgRole.Admin, OrgRole.Finance, OrgRole.Member];

/** Roles that may manage tenants, keys and members of an organisation. */
export const MANAGER_ROLES: readonly OrgRole[] = [OrgRole.Owner, OrgRole.Admin];

/** Roles that may read spend reports and usage of the whole organisation. */
export const SPEND_READER_ROLES: readonly OrgRole[] = [OrgRole.Owner, OrgRole.Admin, OrgRole.Finance];

/**
 * Claims carried by an access token. Billing and the portal authorise from these alone (they never
 * read the accounts tables), so the organisation roles travel in the token; tokens are short-lived.
 */
export interface AccessTokenClaims {
  /** user id */
  sub: string;
  email: string;
  /** platform operator (channels, price book) */
  admin: boolean;
  /** organisation id → role */
  orgs: Record<string, OrgRole>;
  typ: 'access';
}
