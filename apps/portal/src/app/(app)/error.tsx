'use client';

/** Shown when a page fails unexpectedly (a backend answered nonsense, a bug): never a blank screen. */
export default function AppError({
  error,
  reset,
}: {
  error: Error & { digest?: string };
  reset: () => void;
}) {
  return (
    <div className="panel" role="alert" data-testid="page-error">
      <h1>Something went wrong</h1>
      <p className="muted">
        This page could not be shown. The services may be restarting; try again in a moment.
      </p>
      {error.digest && <p className="small muted">Reference: {error.digest}</p>}
      <button type="button" onClick={() => reset()}>
        Try again
      </button>
    </div>
  );
}
