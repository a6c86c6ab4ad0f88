import { useState, type FormEvent, type ReactNode } from 'react';
import { useMutation } from '@tanstack/react-query';
import { Button, Dialog, ErrorText, Field } from './ui';

/**
 * The "new thing with a name and a description" dialog (groups, experiments, models…): it owns
 * the form state and the request, shows the server's error inline, and resets when closed.
 */
export function CreateDialog<T>({
  open,
  onClose,
  title,
  testId,
  idPrefix,
  nameHint,
  namePlaceholder,
  nameMaxLength,
  note,
  submitLabel,
  create,
  onCreated,
}: {
  open: boolean;
  onClose: () => void;
  title: string;
  testId: string;
  /** Prefix of the inputs' ids (`<prefix>-name`, `<prefix>-description`). */
  idPrefix: string;
  nameHint: ReactNode;
  namePlaceholder: string;
  nameMaxLength?: number;
  note?: ReactNode;
  submitLabel: string;
  create: (name: string, description: string) => Promise<T>;
  onCreated: (created: T) => void | Promise<void>;
}) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const close = () => {
    setName('');
    setDescription('');
    mutation.reset();
    onClose();
  };
  const mutation = useMutation({
    mutationFn: () => create(name.trim(), description.trim()),
    onSuccess: async (created) => {
      await onCreated(created);
      close();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    mutation.mutate();
  };
  return (
    <Dialog open={open} onClose={close} title={title} testId={testId}>
      <form onSubmit={submit} className="form">
        <Field label="Name" htmlFor={`${idPrefix}-name`} hint={nameHint}>
          <input id={`${idPrefix}-name`} required autoFocus maxLength={nameMaxLength} value={name} onChange={(e) => setName(e.target.value)} placeholder={namePlaceholder} />
        </Field>
        <Field label="Description" htmlFor={`${idPrefix}-description`}>
          <textarea id={`${idPrefix}-description`} rows={3} value={description} onChange={(e) => setDescription(e.target.value)} />
        </Field>
        {note && <p className="muted small">{note}</p>}
        <ErrorText error={mutation.error} />
        <div className="dialog-footer">
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" variant="primary" pending={mutation.isPending}>
            {submitLabel}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
