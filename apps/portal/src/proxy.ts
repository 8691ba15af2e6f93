/**
 * Runs before every page, server action and route handler: sends visitors without a session to the
 * login page, and exchanges the refresh token when the access token is about to expire, writing the
 * new pair both onto this request (so the render sees it) and into the browser's cookie.
 */
import { NextResponse, type NextRequest } from 'next/server';
import { backend } from './lib/backend';
import { portalConfig } from './lib/config';
import { ApiError } from './lib/problem';
import { createRefresher } from './lib/refresh';
import {
  decodeSession,
  encodeSession,
  isSecureRequest,
  loginPath,
  needsRefresh,
  SESSION_COOKIE,
  sessionCookieOptions,
} from './lib/session';

const PUBLIC_PATHS = new Set(['/login', '/signup']);

// One portal process exchanges each refresh token once; see createRefresher. With several portal
// replicas, route a browser to the same replica (or accept a rare extra login).
const refreshOnce = createRefresher((token) => backend.refresh(token));

function toLogin(req: NextRequest, reason?: 'expired'): NextResponse {
  const target = new URL(loginPath(req.nextUrl.pathname + req.nextUrl.search, reason), req.url);
  const safeMethod = req.method === 'GET' || req.method === 'HEAD';
  return NextResponse.redirect(target, safeMethod ? 307 : 303);
}

export async function proxy(req: NextRequest): Promise<NextResponse> {
  const isPublic = PUBLIC_PATHS.has(req.nextUrl.pathname);
  const session = decodeSession(req.cookies.get(SESSION_COOKIE)?.value);
  if (!session) return isPublic ? NextResponse.next() : toLogin(req);
  if (!needsRefresh(session.accessToken, Date.now())) return NextResponse.next();

  let fresh;
  try {
    fresh = await refreshOnce(session.refreshToken);
  } catch (err) {
    if (err instanceof ApiError && err.status >= 400 && err.status < 500) {
      // the refresh token was refused (expired, revoked, reused): the session is over
      req.cookies.delete(SESSION_COOKIE);
      const res = isPublic
        ? NextResponse.next({ request: { headers: req.headers } })
        : toLogin(req, 'expired');
      res.cookies.delete(SESSION_COOKIE);
      return res;
    }
    // accounts is down or slow: let the page render; it reports the outage itself
    return NextResponse.next();
  }

  const value = encodeSession(fresh);
  req.cookies.set(SESSION_COOKIE, value);
  const res = NextResponse.next({ request: { headers: req.headers } });
  const secure = isSecureRequest(
    portalConfig().cookieSecure,
    req.headers.get('x-forwarded-proto'),
    req.nextUrl.protocol,
  );
  res.cookies.set(SESSION_COOKIE, value, sessionCookieOptions(secure));
  return res;
}

export const config = {
  matcher: ['/((?!_next/static|_next/image|favicon.ico|robots.txt|health/).*)'],
};
