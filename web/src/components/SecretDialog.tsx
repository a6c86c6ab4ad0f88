import type { ReactNode } from 'react';
import { Button, Dialog } from './ui';
import { WarningIcon } from './icons';
import { SecretBox } from './SecretBox';

/**
 * Shows a secret the server hands out only once. The secret lives only in `shown`, so it leaves the
 * page with the dialog, and only the dialog's own button closes it: a stray click must not lose it.
 */
export function SecretDialog<T extends { secret: string }>({
  shown,
  title,
  testId,
  warning,
  details,
  onDone,
}: {
  shown: T | null;
  title: string;
  /** The box's test id; the dialog's is `<testId>-dialog`, its button's `<testId>-done`. */
  testId: string;
  /** What to do if the secret is lost, after "Copy the secret now." */
  warning: ReactNode;
  /** The <dt>/<dd> pairs that say what the secret is for. */
  details: (shown: T) => ReactNode;
  onDone: () => void;
}) {
  return (
    <Dialog
      open={shown !== null}
      onClose={onDone}
      dismissable={false}
      title={title}
      testId={`${testId}-dialog`}
      width={540}
      footer={
        <Button variant="primary" onClick={onDone} data-testid={`${testId}-done`}>
          I have copied it
        </Button>
      }
    >
      {shown && (
        <>
          <div className="callout callout-warning" role="note">
            <WarningIcon size={16} />
            <div>
              <strong>Copy the secret now.</strong> {warning}
            </div>
          </div>
          <SecretBox secret={shown.secret} testId={testId} />
          <dl className="kv">{details(shown)}</dl>
        </>
      )}
    </Dialog>
  );
}
