import { useState, type FormEvent } from 'react';
import { useMutation } from '@tanstack/react-query';
import type { Pipeline } from '@forja/contracts';
import { useClient } from '../../session';
import { Button, Dialog, ErrorText, Field } from '../../components/ui';

const NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;

/** The pipeline's name from a file name: "Daily Scoring.yaml" → "daily-scoring". */
const nameOf = (file: string) =>
  file
    .replace(/\.(ya?ml)$/i, '')
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 63);

/**
 * Uploads a pipeline (a new one, or a new version of `name`): the YAML definition and the files
 * its steps name. The server checks the whole definition (cycles, unknown steps, missing files)
 * and its 400 message shows here.
 */
export function UploadDialog({
  open,
  onClose,
  name: fixedName,
  onUploaded,
}: {
  open: boolean;
  onClose: () => void;
  name?: string;
  onUploaded: (p: Pipeline) => void | Promise<void>;
}) {
  const client = useClient();
  const [name, setName] = useState('');
  const [nameTouched, setNameTouched] = useState(false);
  const [definition, setDefinition] = useState<File | null>(null);
  const [files, setFiles] = useState<File[]>([]);
  // Remounts the file inputs on reset: a file input's value cannot be set back.
  const [generation, setGeneration] = useState(0);
  const target = fixedName ?? name.trim();
  const nameError = !fixedName && target && !NAME.test(target) ? 'Lowercase letters, digits, “.”, “_” and “-”, starting with a letter or digit.' : undefined;

  const upload = useMutation({
    mutationFn: () => {
      const form = new FormData();
      form.append('definition', definition!, definition!.name);
      for (const f of files) form.append('file', f, f.name);
      return client.pipelines.upload(target, form);
    },
    onSuccess: async (p) => {
      await onUploaded(p);
      close();
    },
  });
  const close = () => {
    setName('');
    setNameTouched(false);
    setDefinition(null);
    setFiles([]);
    setGeneration((g) => g + 1);
    upload.reset();
    onClose();
  };
  const pickDefinition = (f: File | null) => {
    setDefinition(f);
    upload.reset();
    if (f && !fixedName && !nameTouched) setName(nameOf(f.name));
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (definition && target && !nameError) upload.mutate();
  };
  return (
    <Dialog
      open={open}
      onClose={close}
      title={fixedName ? `Upload a new version of ${fixedName}` : 'Upload a pipeline'}
      testId="pipeline-upload-dialog"
      width={560}
    >
      <form className="form pl-form" onSubmit={submit} key={generation}>
        <p className="muted small dialog-text">
          A YAML file with <code>steps:</code> (each with an <code>id</code>, an <code>action</code> or <code>script:</code>, <code>needs</code> and{' '}
          <code>with</code>), or MLOps Codex’s <code>training:</code>/<code>deploy:</code> sections. Each upload is a new version; runs keep the version they
          started with.
        </p>
        <Field label="Definition (YAML)" htmlFor="pu-definition">
          <input
            id="pu-definition"
            type="file"
            className="file-input"
            accept=".yaml,.yml,text/yaml"
            required
            onChange={(e) => pickDefinition(e.target.files?.[0] ?? null)}
            data-testid="pipeline-upload-definition"
          />
        </Field>
        <Field
          label="Files"
          htmlFor="pu-files"
          hint={
            files.length > 0 ? (
              <span className="mono">{files.map((f) => f.name).join(', ')}</span>
            ) : (
              'The scripts, requirements and data files the steps name, by file name.'
            )
          }
        >
          <input
            id="pu-files"
            type="file"
            className="file-input"
            multiple
            onChange={(e) => {
              setFiles(Array.from(e.target.files ?? []));
              upload.reset();
            }}
            data-testid="pipeline-upload-files"
          />
        </Field>
        {!fixedName && (
          <Field
            label="Name"
            htmlFor="pu-name"
            hint={nameError ? <span className="text-danger">{nameError}</span> : 'Unique in the group; uploading to an existing name adds a version.'}
          >
            <input
              id="pu-name"
              className="mono"
              required
              maxLength={63}
              value={name}
              onChange={(e) => {
                setName(e.target.value);
                setNameTouched(true);
              }}
              placeholder="e.g. daily-scoring"
              aria-invalid={nameError ? true : undefined}
              data-testid="pipeline-upload-name"
            />
          </Field>
        )}
        <ErrorText error={upload.error} testId="pipeline-upload-error" />
        <div className="dialog-footer">
          <Button onClick={close}>Cancel</Button>
          <Button
            type="submit"
            variant="primary"
            pending={upload.isPending}
            disabled={!definition || !target || Boolean(nameError)}
            data-testid="pipeline-upload-submit"
          >
            Upload
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
