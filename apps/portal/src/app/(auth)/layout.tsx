import type { ReactNode } from 'react';

export default function AuthLayout({ children }: { children: ReactNode }) {
  return (
    <main className="auth-wrap">
      <div className="auth-card">
        <span className="brand">Tollgate</span>
        <div className="panel">{children}</div>
      </div>
    </main>
  );
}
