import { useEffect, useState } from 'react';
import { Button } from './ui';
import { CheckIcon, CopyIcon } from './icons';

/**
 * A secret shown once (a token, a webhook's signing secret): the value, a Copy button, and a note
 * when the browser refuses the clipboard. Resets its "Copied" state when the secret changes.
 */
export function SecretBox({ secret, testId }: { secret: string; testId: string }) {
  const [copied, setCopied] = useState(false);
  const [copyFailed, setCopyFailed] = useState(false);
  useEffect(() => {
    setCopied(false);
    setCopyFailed(false);
  }, [secret]);

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied(true);
    } catch {
      // The Clipboard API needs a secure context (https or localhost); behind plain http the user copies by hand.
      setCopyFailed(true);
    }
  };

  return (
    <>
      <div className="secret-box">
        <code data-testid={testId} onFocus={(e) => window.getSelection()?.selectAllChildren(e.currentTarget)} tabIndex={0}>
          {secret}
        </code>
        <Button size="sm" onClick={() => void copy()} aria-label="Copy secret" data-testid="copy-secret">
          {copied ? <CheckIcon size={14} /> : <CopyIcon size={14} />}
          {copied ? 'Copied' : 'Copy'}
        </Button>
      </div>
      {copyFailed && <p className="small text-danger">The browser blocked the clipboard here: select the secret and copy it by hand.</p>}
    </>
  );
}
