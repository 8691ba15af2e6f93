'use client';

import { useFormStatus } from 'react-dom';

export function SubmitButton({
  children,
  pendingLabel,
  testId,
  className,
}: {
  children: React.ReactNode;
  pendingLabel: string;
  testId?: string;
  className?: string;
}) {
  const { pending } = useFormStatus();
  return (
    <button
      type="submit"
      disabled={pending}
      aria-disabled={pending}
      data-testid={testId}
      className={className}
    >
      {pending ? pendingLabel : children}
    </button>
  );
}
