import type { MeResponseDto } from '@tollgate/contracts';

export type Membership = MeResponseDto['memberships'][number];

// Mirrors MANAGER_ROLES / SPEND_READER_ROLES of @tollgate/contracts as plain strings: the portal only
// imports types from there, so the role lists are restated (a unit test pins them).
const MANAGERS: readonly string[] = ['owner', 'admin'];
const SPEND_READERS: readonly string[] = ['owner', 'admin', 'finance'];

/** The organisation to show: the one the user picked if they still belong to it, else the first. */
export function pickOrganisation(
  memberships: readonly Membership[],
  preferredId: string | undefined,
): Membership | null {
  if (preferredId) {
    const preferred = memberships.find((m) => m.organisationId === preferredId);
    if (preferred) return preferred;
  }
  return memberships[0] ?? null;
}

export function canManage(role: string): boolean {
  return MANAGERS.includes(role);
}

export function canReadSpend(role: string): boolean {
  return SPEND_READERS.includes(role);
}
