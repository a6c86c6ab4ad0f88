import { useState, type ReactNode } from 'react';
import { useMutation } from '@tanstack/react-query';
import { Dialog, Field } from './ui';
import { DialogForm } from './DialogForm';

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
  return (
    <Dialog open={open} onClose={close} title={title} testId={testId}>
      <DialogForm request={mutation} onSubmit={() => mutation.mutate()} onCancel={close} submitLabel={submitLabel}>
        <Field label="Name" htmlFor={`${idPrefix}-name`} hint={nameHint}>
          <input
            id={`${idPrefix}-name`}
            required
            autoFocus
            maxLength={nameMaxLength}
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder={namePlaceholder}
          />
        </Field>
        <Field label="Description" htmlFor={`${idPrefix}-description`}>
          <textarea id={`${idPrefix}-description`} rows={3} value={description} onChange={(e) => setDescription(e.target.value)} />
        </Field>
        {note && <p className="muted small">{note}</p>}
      </DialogForm>
    </Dialog>
  );
}
