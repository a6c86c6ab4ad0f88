import { useId, useState, type ReactNode } from 'react';
import { useMutation } from '@tanstack/react-query';
import { DialogForm } from './DialogForm';
import { Dialog, Field } from './ui';

const NO_PARAMS = '{\n  \n}';

/**
 * Starts a run with parameters typed as a JSON object: `parse` checks them as they are typed and
 * Start waits until they are an object. The caller's own fields are `children`; `onReset` clears
 * them when the dialog closes.
 */
export function JobRunDialog<T>({
  open,
  onClose,
  title,
  testId,
  intro,
  parse,
  example,
  start,
  onStarted,
  onReset,
  testIds,
  children,
}: {
  open: boolean;
  onClose: () => void;
  title: string;
  testId: string;
  intro: ReactNode;
  parse: (text: string) => { value?: Record<string, unknown>; error?: string };
  /** The hint under the parameters while they are well formed. */
  example: string;
  start: (params: Record<string, unknown>) => Promise<T>;
  onStarted: (started: T) => void | Promise<void>;
  onReset: () => void;
  testIds: { params: string; paramsError: string; submit: string; error?: string };
  children: ReactNode;
}) {
  const paramsId = useId();
  const [params, setParams] = useState(NO_PARAMS);
  const parsed = parse(params);
  const run = useMutation({
    mutationFn: () => start(parsed.value ?? {}),
    onSuccess: async (started) => {
      await onStarted(started);
      close();
    },
  });
  const close = () => {
    setParams(NO_PARAMS);
    onReset();
    run.reset();
    onClose();
  };
  return (
    <Dialog open={open} onClose={close} title={title} testId={testId} width={520}>
      <DialogForm
        request={run}
        onSubmit={() => {
          if (!parsed.error) run.mutate();
        }}
        onCancel={close}
        submitLabel="Start run"
        submitDisabled={Boolean(parsed.error)}
        submitTestId={testIds.submit}
        errorTestId={testIds.error}
      >
        <p className="muted small dialog-text">{intro}</p>
        <Field
          label="Parameters (JSON object)"
          htmlFor={paramsId}
          hint={
            parsed.error ? (
              <span className="text-danger" data-testid={testIds.paramsError}>
                {parsed.error}
              </span>
            ) : (
              example
            )
          }
        >
          <textarea
            id={paramsId}
            rows={6}
            className="mono"
            autoFocus
            spellCheck={false}
            value={params}
            onChange={(e) => setParams(e.target.value)}
            aria-invalid={parsed.error ? true : undefined}
            data-testid={testIds.params}
          />
        </Field>
        {children}
      </DialogForm>
    </Dialog>
  );
}
