'use client';

import Link from 'next/link';
import { usePathname } from 'next/navigation';

const LINKS = [
  { href: '/', label: 'Dashboard', testId: 'nav-dashboard' },
  { href: '/usage', label: 'Usage & spend', testId: 'nav-usage' },
  { href: '/budgets', label: 'Budgets', testId: 'nav-budgets' },
  { href: '/alerts', label: 'Alerts', testId: 'nav-alerts' },
  { href: '/balance', label: 'Balance', testId: 'nav-balance' },
];

export function NavLinks() {
  const pathname = usePathname();
  return (
    <nav className="nav" aria-label="Main">
      {LINKS.map((l) => {
        const current =
          l.href === '/'
            ? pathname === '/' || pathname.startsWith('/tenants')
            : pathname.startsWith(l.href);
        return (
          <Link
            key={l.href}
            href={l.href}
            aria-current={current ? 'page' : undefined}
            data-testid={l.testId}
          >
            {l.label}
          </Link>
        );
      })}
    </nav>
  );
}
