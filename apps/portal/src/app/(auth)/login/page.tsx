import type { Metadata } from 'next';
import { LoginForm } from '../../../components/auth-forms';
import { one } from '../../../lib/load';
import { safeNextPath } from '../../../lib/session';

export const metadata: Metadata = { title: 'Log in' };

export default async function LoginPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const sp = await searchParams;
  return <LoginForm next={safeNextPath(one(sp.next))} expired={one(sp.reason) === 'expired'} />;
}
