'use client';

/** Last-resort error boundary for everything under the root layout. */
export default function RootError({
  error,
  reset,
}: {
  error: Error & { digest?: string };
  reset: () => void;
}) {
  return (
    <main>
      <div className="panel" role="alert" data-testid="page-error">
        <h1>Something went wrong</h1>
        <p className="muted">This page could not be shown. Try again in a moment.</p>
        {error.digest && <p className="small muted">Reference: {error.digest}</p>}
        <button type="button" onClick={() => reset()}>
          Try again
        </button>
      </div>
    </main>
  );
}
