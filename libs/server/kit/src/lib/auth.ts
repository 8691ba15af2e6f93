import {
  createParamDecorator,
  type DynamicModule,
  type ExecutionContext,
  Injectable,
  Module,
  SetMetadata,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard, PassportModule, PassportStrategy } from '@nestjs/passport';
import type { AccessTokenClaims, OrgRole } from '@tollgate/contracts';
import { ExtractJwt, Strategy } from 'passport-jwt';

export const ACCESS_TOKEN_ISSUER = 'tollgate-accounts';
export const ACCESS_TOKEN_AUDIENCE = 'tollgate';
const PUBLIC_ROUTE = 'tollgate:public-route';

/** Marks a route that needs no access token (signup, login, health). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_ROUTE, true);

export const ACCESS_TOKEN_SECRET = Symbol('ACCESS_TOKEN_SECRET');

/** Verifies the short-lived HS256 access tokens issued by accounts. */
@Injectable()
export class AccessTokenStrategy extends PassportStrategy(Strategy, 'access-token') {
  constructor(secret: string) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: secret,
      algorithms: ['HS256'],
      issuer: ACCESS_TOKEN_ISSUER,
      audience: ACCESS_TOKEN_AUDIENCE,
      ignoreExpiration: false,
    });
  }

  validate(payload: Partial<AccessTokenClaims>): AccessTokenClaims | false {
    if (payload.typ !== 'access' || typeof payload.sub !== 'string') return false;
    return {
      sub: payload.sub,
      email: String(payload.email ?? ''),
      admin: payload.admin === true,
      orgs: payload.orgs && typeof payload.orgs === 'object' ? payload.orgs : {},
      typ: 'access',
    };
  }
}

/** Global guard: every route needs a valid access token unless marked `@Public()`. */
@Injectable()
export class AccessTokenGuard extends AuthGuard('access-token') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    const isPublic = this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    return super.canActivate(context);
  }
}

@Module({})
export class AccessTokenAuthModule {
  static forRoot(secret: string): DynamicModule {
    return {
      module: AccessTokenAuthModule,
      imports: [PassportModule],
      providers: [
        { provide: AccessTokenStrategy, useFactory: () => new AccessTokenStrategy(secret) },
        AccessTokenGuard,
      ],
      exports: [AccessTokenGuard],
    };
  }
}

/** The verified claims of the caller. */
export const Caller = createParamDecorator((_: unknown, ctx: ExecutionContext): AccessTokenClaims => {
  const req = ctx.switchToHttp().getRequest<{ user: AccessTokenClaims }>();
  return req.user;
});

/** True when the caller holds one of `roles` in `orgId` (platform admins are not implicitly members). */
export function hasOrgRole(claims: AccessTokenClaims, orgId: string, roles: readonly OrgRole[]): boolean {
  const role = claims.orgs[orgId];
  return role !== undefined && roles.includes(role);
}
