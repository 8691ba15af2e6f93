import { problemLines, type ProblemView } from '../lib/problem';

/** A problem from a backend (or the portal's own checks), worded for people. */
export function ProblemAlert({
  problem,
  testId = 'problem',
}: {
  problem: ProblemView;
  testId?: string;
}) {
  const { headline, lines } = problemLines(problem);
  return (
    <div
      className="alert alert-error"
      role="alert"
      data-testid={testId}
      data-problem-code={problem.code}
    >
      <strong>{headline}</strong>
      {lines.length > 0 && !problem.errors?.length && <div>{lines.join(' ')}</div>}
      {lines.length > 0 && !!problem.errors?.length && (
        <ul>
          {lines.map((line, i) => (
            <li key={`${i}-${line}`}>{line}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function Notice({ children, testId }: { children: React.ReactNode; testId?: string }) {
  return (
    <div className="alert alert-ok" role="status" data-testid={testId}>
      {children}
    </div>
  );
}
