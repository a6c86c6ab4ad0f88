import type { FormEvent, ReactNode } from 'react';
import { Button, ErrorText, type ButtonVariant } from './ui';

/**
 * The form of a dialog that sends one request: its fields, the request's error, then Cancel and a
 * submit button that shows the request pending. Submitting never reloads the page.
 */
export function DialogForm({
  request,
  onSubmit,
  onCancel,
  submitLabel,
  submitVariant = 'primary',
  submitDisabled,
  submitTestId,
  errorTestId,
  className = 'form',
  noValidate,
  children,
}: {
  /** The request the form sends; a react-query mutation fits as it is. */
  request: { isPending: boolean; error: unknown };
  onSubmit: () => void;
  onCancel: () => void;
  submitLabel: ReactNode;
  submitVariant?: ButtonVariant;
  submitDisabled?: boolean;
  submitTestId?: string;
  errorTestId?: string;
  className?: string;
  /** For forms that check their fields themselves and say what is wrong next to each. */
  noValidate?: boolean;
  children: ReactNode;
}) {
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSubmit();
  };
  return (
    <form onSubmit={submit} className={className} noValidate={noValidate}>
      {children}
      <ErrorText error={request.error} testId={errorTestId} />
      <div className="dialog-footer">
        <Button onClick={onCancel}>Cancel</Button>
        <Button type="submit" variant={submitVariant} pending={request.isPending} disabled={submitDisabled} data-testid={submitTestId}>
          {submitLabel}
        </Button>
      </div>
    </form>
  );
}
