import { portalConfig } from '../../../lib/config';

// Readiness for container probes: the portal is useful only while the accounts API answers, so a
// portal that cannot reach it leaves the load balancer's rotation (503) instead of failing every login.
export const dynamic = 'force-dynamic';

export async function GET(): Promise<Response> {
  const headers = { 'cache-control': 'no-store' };
  try {
    const res = await fetch(`${portalConfig().accountsUrl}/health/live`, {
      cache: 'no-store',
      signal: AbortSignal.timeout(2000),
    });
    await res.arrayBuffer();
    if (res.ok) return Response.json({ status: 'ok', accounts: 'up' }, { headers });
    return Response.json({ status: 'unavailable', accounts: `HTTP ${res.status}` }, { status: 503, headers });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return Response.json({ status: 'unavailable', accounts: reason }, { status: 503, headers });
  }
}
