import Link from 'next/link';

export default function NotFound() {
  return (
    <main>
      <div className="panel" data-testid="not-found">
        <h1>Not found</h1>
        <p className="muted">
          There is nothing here, or it belongs to an organisation you are not a member of.
        </p>
        <Link href="/">Back to the dashboard</Link>
      </div>
    </main>
  );
}
