import { useState, type FormEvent } from 'react';
import { useMutation } from '@tanstack/react-query';
import { Button, ErrorText } from './ui';

/**
 * A thing's description, which those who may edit it change in place. The editor stays open until
 * `save` has finished, so what it refreshes already shows the new text when it closes.
 */
export function EditableDescription({
  text,
  canEdit,
  save,
  testId,
}: {
  text: string;
  canEdit: boolean;
  save: (description: string) => Promise<unknown>;
  /** The text's test id; the editor's box is `<testId>-input`. */
  testId: string;
}) {
  const [draft, setDraft] = useState<string | null>(null);
  const mutation = useMutation({ mutationFn: save, onSuccess: () => setDraft(null) });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (draft !== null) mutation.mutate(draft.trim());
  };
  if (draft !== null) {
    return (
      <form className="description-edit" onSubmit={submit} aria-label="Edit the description">
        <textarea rows={3} aria-label="Description" autoFocus value={draft} onChange={(e) => setDraft(e.target.value)} data-testid={`${testId}-input`} />
        <ErrorText error={mutation.error} />
        <div className="row-actions">
          <Button type="submit" size="sm" variant="primary" pending={mutation.isPending}>
            Save
          </Button>
          <Button
            size="sm"
            variant="ghost"
            onClick={() => {
              mutation.reset();
              setDraft(null);
            }}
          >
            Cancel
          </Button>
        </div>
      </form>
    );
  }
  return (
    <div className="description">
      <p className={`detail-note${text ? '' : ' muted'}`} data-testid={testId}>
        {text || 'No description.'}
      </p>
      {canEdit && (
        <Button size="sm" variant="ghost" onClick={() => setDraft(text)} data-testid="edit-description">
          Edit
        </Button>
      )}
    </div>
  );
}
