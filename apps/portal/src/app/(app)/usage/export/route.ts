/**
 * GET /usage/export?month=YYYY-MM: the month's spend report as a CSV download, fetched from billing
 * with the session's token (the browser never holds the token, so it cannot call billing itself).
 */
import { backend } from '../../../../lib/backend';
import { isMonth, utcMonth } from '../../../../lib/format';
import { pickOrganisation } from '../../../../lib/org';
import { ApiError, problemLines, toProblemView } from '../../../../lib/problem';
import { loginPath, ORG_COOKIE } from '../../../../lib/session';
import { readSession } from '../../../../lib/server-session';
import type { NextRequest } from 'next/server';

export const dynamic = 'force-dynamic';

function textError(status: number, message: string): Response {
  return new Response(`${message}\n`, {
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
  });
}

export async function GET(req: NextRequest): Promise<Response> {
  const session = await readSession();
  const toLogin = () => Response.redirect(new URL(loginPath(`/usage`), req.url), 303);
  if (!session) return toLogin();
  const requested = req.nextUrl.searchParams.get('month');
  if (requested !== null && !isMonth(requested)) return textError(400, 'month must be YYYY-MM');
  const month = requested ?? utcMonth(new Date());
  try {
    const me = await backend.me(session.accessToken);
    const org = pickOrganisation(me.memberships, req.cookies.get(ORG_COOKIE)?.value);
    if (!org) return textError(404, 'You are not a member of any organisation.');
    const upstream = await backend.monthlyReportCsv(session.accessToken, org.organisationId, month);
    const slug =
      org.organisationName
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-+|-+$/g, '') || 'organisation';
    return new Response(upstream.body, {
      status: 200,
      headers: {
        'content-type': upstream.headers.get('content-type') ?? 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="tollgate-${slug}-${month}.csv"`,
        'cache-control': 'no-store',
      },
    });
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return toLogin();
    const view = toProblemView(err);
    const { headline, lines } = problemLines(view);
    return textError(
      view.status,
      ['Could not export the report: ' + headline, ...lines].join('\n'),
    );
  }
}
