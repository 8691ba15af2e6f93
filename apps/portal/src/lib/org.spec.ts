import { MANAGER_ROLES, ORG_ROLES, SPEND_READER_ROLES } from '@tollgate/contracts';
import { canManage, canReadSpend, pickOrganisation, type Membership } from './org';

const acme: Membership = { organisationId: 'o1', organisationName: 'Acme', role: 'owner' };
const globex: Membership = { organisationId: 'o2', organisationName: 'Globex', role: 'finance' };

describe('pickOrganisation', () => {
  it('uses the organisation the user picked', () => {
    expect(pickOrganisation([acme, globex], 'o2')).toBe(globex);
  });

  it('falls back to the first membership when the pick is stale or absent', () => {
    expect(pickOrganisation([acme, globex], 'someone-elses-org')).toBe(acme);
    expect(pickOrganisation([acme, globex], undefined)).toBe(acme);
  });

  it('has nothing to show without memberships', () => {
    expect(pickOrganisation([], 'o1')).toBeNull();
  });
});

describe('roles', () => {
  it.each(ORG_ROLES.map((r) => [r]))('agrees with the contracts for %p', (role) => {
    expect(canManage(role)).toBe(MANAGER_ROLES.includes(role));
    expect(canReadSpend(role)).toBe(SPEND_READER_ROLES.includes(role));
  });

  it('grants nothing to an unknown role', () => {
    expect(canManage('superuser')).toBe(false);
    expect(canReadSpend('')).toBe(false);
  });
});
