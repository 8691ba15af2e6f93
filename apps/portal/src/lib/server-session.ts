/**
 * Session access for server components, server actions and route handlers (next/headers). The proxy
 * (src/proxy.ts) has already refreshed an expiring access token before any of these run.
 */
import { cookies, headers } from 'next/headers';
import { redirect } from 'next/navigation';
import { cache } from 'react';
import type { MeResponseDto } from '@tollgate/contracts';
import { backend } from './backend';
import { portalConfig } from './config';
import { pickOrganisation, type Membership } from './org';
import { ApiError } from './problem';
import {
  decodeSession,
  encodeSession,
  isSecureRequest,
  loginPath,
  ORG_COOKIE,
  SESSION_COOKIE,
  sessionCookieOptions,
  type SessionTokens,
} from './session';

export async function readSession(): Promise<SessionTokens | null> {
  const store = await cookies();
  return decodeSession(store.get(SESSION_COOKIE)?.value);
}

async function secureCookies(): Promise<boolean> {
  const h = await headers();
  return isSecureRequest(portalConfig().cookieSecure, h.get('x-forwarded-proto'), null);
}

/** Only from a server action or route handler. */
export async function writeSession(tokens: SessionTokens): Promise<void> {
  const store = await cookies();
  store.set(SESSION_COOKIE, encodeSession(tokens), sessionCookieOptions(await secureCookies()));
}

/** Only from a server action or route handler. */
export async function clearSession(): Promise<void> {
  const store = await cookies();
  store.delete(SESSION_COOKIE);
  store.delete(ORG_COOKIE);
}

/** Only from a server action or route handler. */
export async function rememberOrganisation(orgId: string): Promise<void> {
  const store = await cookies();
  store.set(ORG_COOKIE, orgId, sessionCookieOptions(await secureCookies()));
}

/** The access token, or a redirect to the login page. */
export async function requireAccessToken(): Promise<string> {
  const session = await readSession();
  if (!session) redirect(loginPath());
  return session.accessToken;
}

/**
 * Runs backend calls with the caller's token. A 401 means the session is no longer accepted (the
 * proxy would have refreshed a merely expired token), so the user is sent to log in again.
 */
export async function authed<T>(fn: (token: string) => Promise<T>): Promise<T> {
  const token = await requireAccessToken();
  try {
    return await fn(token);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) redirect(loginPath(undefined, 'expired'));
    throw err;
  }
}

/** The signed-in user, fetched once per request. */
export const getMe = cache(async (): Promise<MeResponseDto> => authed((t) => backend.me(t)));

export interface CurrentContext {
  me: MeResponseDto;
  org: Membership | null;
}

/** The user and the organisation the pages are showing. */
export const getCurrentContext = cache(async (): Promise<CurrentContext> => {
  const me = await getMe();
  const store = await cookies();
  return { me, org: pickOrganisation(me.memberships, store.get(ORG_COOKIE)?.value) };
});
