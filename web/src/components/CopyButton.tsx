import { useEffect, useState } from 'react';
import { Button } from './ui';
import { CheckIcon, CopyIcon } from './icons';

/**
 * Copies `text` to the clipboard: `copied` after it worked, `failed` when the browser refused
 * (the Clipboard API needs a secure context: https or localhost). Both reset when the text changes.
 */
export function useCopy(text: string) {
  const [copied, setCopied] = useState(false);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    setCopied(false);
    setFailed(false);
  }, [text]);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
    } catch {
      setFailed(true);
    }
  };
  return { copied, failed, copy };
}

/** A small Copy button for a snippet; says so when the browser blocks the clipboard. */
export function CopyButton({ text, label = 'Copy', testId }: { text: string; label?: string; testId?: string }) {
  const { copied, failed, copy } = useCopy(text);
  return (
    <Button
      size="sm"
      onClick={() => void copy()}
      aria-label={label}
      data-testid={testId}
      title={failed ? 'The browser blocked the clipboard here: select the text and copy it by hand.' : undefined}
    >
      {copied ? <CheckIcon size={14} /> : <CopyIcon size={14} />}
      {copied ? 'Copied' : failed ? 'Copy blocked' : 'Copy'}
    </Button>
  );
}
