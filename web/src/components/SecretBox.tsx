import { Button } from './ui';
import { CheckIcon, CopyIcon } from './icons';
import { useCopy } from './CopyButton';

/**
 * A secret shown once (a token, a webhook's signing secret): the value, a Copy button, and a note
 * when the browser refuses the clipboard. Resets its "Copied" state when the secret changes.
 */
export function SecretBox({ secret, testId }: { secret: string; testId: string }) {
  // Behind plain http the browser refuses the clipboard and the user copies by hand.
  const { copied, failed: copyFailed, copy } = useCopy(secret);
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
