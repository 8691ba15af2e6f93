import { OrgRole } from '@tollgate/contracts';
import { canGrantRole, decideKeyManagement, decideOrgAccess, OrgAction } from './access-policy';

describe('access policy', () => {
  describe('decideOrgAccess', () => {
    it('hides the organisation from a non-member', () => {
      expect(decideOrgAccess(undefined, OrgAction.Read)).toBe('not_found');
    });

    it.each([
      [OrgRole.Owner, 'allow'],
      [OrgRole.Admin, 'allow'],
      [OrgRole.Finance, 'forbidden'],
      [OrgRole.Member, 'forbidden'],
    ])('lets %s manage tenants: %s', (role, expected) => {
      expect(decideOrgAccess(role, OrgAction.ManageTenants)).toBe(expected);
    });

    it.each([
      [OrgRole.Owner, 'allow'],
      [OrgRole.Admin, 'allow'],
      [OrgRole.Finance, 'forbidden'],
      [OrgRole.Member, 'allow'],
    ])('lets %s create keys: %s', (role, expected) => {
      expect(decideOrgAccess(role, OrgAction.CreateKeys)).toBe(expected);
    });

    it('lets every role read, finance included', () => {
      for (const role of Object.values(OrgRole))
        expect(decideOrgAccess(role, OrgAction.Read)).toBe('allow');
    });

    it.each([
      [OrgRole.Owner, 'allow'],
      [OrgRole.Admin, 'allow'],
      [OrgRole.Finance, 'forbidden'],
      [OrgRole.Member, 'forbidden'],
    ])('lets %s manage members: %s', (role, expected) => {
      expect(decideOrgAccess(role, OrgAction.ManageMembers)).toBe(expected);
    });
  });

  describe('decideKeyManagement', () => {
    const me = 'user-me';
    const other = 'user-other';

    it('lets owners and admins revoke any key', () => {
      expect(decideKeyManagement(OrgRole.Owner, me, other)).toBe('allow');
      expect(decideKeyManagement(OrgRole.Admin, me, null)).toBe('allow');
    });

    it('lets a member revoke only a key they created', () => {
      expect(decideKeyManagement(OrgRole.Member, me, me)).toBe('allow');
      expect(decideKeyManagement(OrgRole.Member, me, other)).toBe('forbidden');
      expect(decideKeyManagement(OrgRole.Member, me, null)).toBe('forbidden');
    });

    it('keeps finance read-only even for a key it somehow created', () => {
      expect(decideKeyManagement(OrgRole.Finance, me, me)).toBe('forbidden');
    });

    it('hides the key from a non-member', () => {
      expect(decideKeyManagement(undefined, me, me)).toBe('not_found');
    });
  });

  describe('canGrantRole', () => {
    it('lets only owners make owners', () => {
      expect(canGrantRole(OrgRole.Owner, OrgRole.Owner)).toBe(true);
      expect(canGrantRole(OrgRole.Admin, OrgRole.Owner)).toBe(false);
    });

    it('lets admins grant admin, finance and member', () => {
      for (const role of [OrgRole.Admin, OrgRole.Finance, OrgRole.Member]) {
        expect(canGrantRole(OrgRole.Admin, role)).toBe(true);
      }
    });

    it('never lets finance or members grant anything', () => {
      expect(canGrantRole(OrgRole.Finance, OrgRole.Member)).toBe(false);
      expect(canGrantRole(OrgRole.Member, OrgRole.Member)).toBe(false);
    });
  });
});
