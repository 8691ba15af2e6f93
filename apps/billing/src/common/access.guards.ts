import { type CanActivate, type ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { AccessTokenClaims, OrgRole } from '@tollgate/contracts';
import { hasOrgRole } from '@tollgate/server-kit';
import { BillingErrorCode, BillingException } from './billing.exception';

const ORG_ROLES_KEY = 'billing:org-roles';

/** The route's `:orgId` may only be reached by a member holding one of `roles` there. */
export const RequireOrgRole = (roles: readonly OrgRole[]): MethodDecorator & ClassDecorator =>
  SetMetadata(ORG_ROLES_KEY, roles);

interface AuthenticatedRequest {
  user?: AccessTokenClaims;
  params: Record<string, string | undefined>;
}

/**
 * Authorises from the token's claims alone (billing never reads the accounts tables). A caller who is
 * not a member gets 404, so organisation ids cannot be probed; a member with another role gets 403.
 */
@Injectable()
export class OrgRoleGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const roles = this.reflector.getAllAndOverride<readonly OrgRole[] | undefined>(ORG_ROLES_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!roles) return true;
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const orgId = req.params.orgId ?? '';
    const claims = req.user;
    if (!claims || !Object.hasOwn(claims.orgs, orgId)) {
      throw new BillingException(
        BillingErrorCode.OrganisationNotFound,
        `organisation ${orgId} not found`,
      );
    }
    if (!hasOrgRole(claims, orgId, roles)) {
      throw new BillingException(
        BillingErrorCode.InsufficientRole,
        `this needs one of the roles ${roles.join(', ')}; you are ${claims.orgs[orgId]}`,
      );
    }
    return true;
  }
}

/** Platform operators only (`admin` claim): the price book. */
@Injectable()
export class PlatformAdminGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (req.user?.admin !== true) {
      throw new BillingException(
        BillingErrorCode.PlatformAdminRequired,
        'only platform administrators may do this',
      );
    }
    return true;
  }
}
