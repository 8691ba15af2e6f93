'use client';

import { useState } from 'react';

async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall through to the selection-based copy
  }
  // plain-http deployments have no async clipboard: copy through a temporary selection
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.appendChild(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  document.body.removeChild(area);
  return ok;
}

export function CopyButton({
  text,
  label = 'Copy',
  testId,
}: {
  text: string;
  label?: string;
  testId?: string;
}) {
  const [status, setStatus] = useState<'idle' | 'copied' | 'failed'>('idle');
  return (
    <>
      <button
        type="button"
        className="secondary"
        data-testid={testId}
        onClick={() => {
          void copyText(text).then((ok) => setStatus(ok ? 'copied' : 'failed'));
        }}
      >
        {status === 'copied' ? 'Copied' : label}
      </button>
      <span role="status" aria-live="polite" className="small muted">
        {status === 'copied'
          ? 'Copied to the clipboard.'
          : status === 'failed'
            ? 'Copy failed: select the key and copy it by hand.'
            : ''}
      </span>
    </>
  );
}
