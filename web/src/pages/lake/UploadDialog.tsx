import { useState, type FormEvent } from 'react';
import { useMutation } from '@tanstack/react-query';
import { LakeTableNameSchema, type LakeTableSummary, type LakeWriteMode, type LakeWriteResult } from '@forja/contracts';
import { useClient } from '../../session';
import { Button, Dialog, ErrorText, Field } from '../../components/ui';
import { fileFormatOf, formatCount, tableNameOf } from './format';

const modes: { id: LakeWriteMode; label: string; help: string }[] = [
  { id: 'fail', label: 'Create new', help: 'A new table; fails if the name is taken.' },
  { id: 'append', label: 'Append', help: 'Add the rows; the columns must match.' },
  { id: 'replace', label: 'Replace', help: 'Delete every row, keep the schema, write these.' },
];

/** Uploads a CSV or Parquet file into a table: create, append or replace, optionally versioned. */
export function UploadDialog({
  open,
  onClose,
  tables,
  onUploaded,
}: {
  open: boolean;
  onClose: () => void;
  tables: LakeTableSummary[];
  onUploaded: (r: LakeWriteResult) => void | Promise<void>;
}) {
  const client = useClient();
  const [file, setFile] = useState<File | null>(null);
  const [name, setName] = useState('');
  const [nameTouched, setNameTouched] = useState(false);
  const [format, setFormat] = useState<'csv' | 'parquet'>('csv');
  const [mode, setMode] = useState<LakeWriteMode>('fail');
  const [confirmReplace, setConfirmReplace] = useState(false);
  const [versioned, setVersioned] = useState(false);
  // Remounts the file input on reset: a file input's value cannot be set back.
  const [generation, setGeneration] = useState(0);

  const existing = tables.find((t) => t.name.toLowerCase() === name.trim().toLowerCase());
  const nameCheck = name.trim() ? LakeTableNameSchema.safeParse(name.trim()) : null;
  const nameError = nameCheck && !nameCheck.success ? nameCheck.error.issues[0]?.message : undefined;

  const upload = useMutation({
    mutationFn: () => client.lake.write(name.trim(), file!, { format, mode, confirmReplace: mode === 'replace' ? confirmReplace : undefined, versioned }),
    onSuccess: async (r) => {
      await onUploaded(r);
      close();
    },
  });
  const close = () => {
    setFile(null);
    setName('');
    setNameTouched(false);
    setFormat('csv');
    setMode('fail');
    setConfirmReplace(false);
    setVersioned(false);
    setGeneration((g) => g + 1);
    upload.reset();
    onClose();
  };
  const pick = (f: File | null) => {
    setFile(f);
    if (!f) return;
    const guessed = fileFormatOf(f.name);
    if (guessed) setFormat(guessed);
    if (!nameTouched) setName(tableNameOf(f.name));
  };
  const chooseMode = (m: LakeWriteMode) => {
    setMode(m);
    if (m !== 'replace') setConfirmReplace(false);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (file && !nameError) upload.mutate();
  };

  const blocked = !file || Boolean(nameError) || (mode === 'replace' && !confirmReplace);
  return (
    <Dialog open={open} onClose={close} title="Upload rows" testId="lake-upload-dialog" width={560}>
      <form className="form" onSubmit={submit} key={generation}>
        <div className="form-row lake-upload-file">
          <Field label="File" htmlFor="lu-file" hint="CSV with a header line, or Parquet.">
            <input
              id="lu-file"
              type="file"
              className="file-input"
              accept=".csv,.tsv,.txt,.parquet,.pq,text/csv"
              required
              onChange={(e) => pick(e.target.files?.[0] ?? null)}
              data-testid="lake-upload-file"
            />
          </Field>
          <Field label="Format" htmlFor="lu-format" hint={file ? `${formatCount(file.size)} bytes` : 'Guessed from the file name.'}>
            <select id="lu-format" value={format} onChange={(e) => setFormat(e.target.value as 'csv' | 'parquet')} data-testid="lake-upload-format">
              <option value="csv">CSV</option>
              <option value="parquet">Parquet</option>
            </select>
          </Field>
        </div>
        <Field
          label="Table"
          htmlFor="lu-name"
          hint={
            nameError ? (
              <span className="text-danger">{nameError}</span>
            ) : existing ? (
              <>
                Exists: {formatCount(existing.rowCount)} rows, {existing.columnCount} columns
                {existing.latestVersion !== null ? `, VERSION ${existing.latestVersion}` : ''}.
              </>
            ) : (
              'Letters, digits and underscores; unique in the group regardless of case.'
            )
          }
        >
          <input
            id="lu-name"
            className="mono"
            required
            maxLength={63}
            list="lu-tables"
            value={name}
            onChange={(e) => {
              setName(e.target.value);
              setNameTouched(true);
            }}
            placeholder="e.g. customers"
            aria-invalid={nameError ? true : undefined}
            data-testid="lake-upload-name"
          />
          <datalist id="lu-tables">
            {tables.map((t) => (
              <option key={t.name} value={t.name} />
            ))}
          </datalist>
        </Field>
        <fieldset className="field">
          <legend>Mode</legend>
          <div className="radio-cards">
            {modes.map((m) => (
              <label key={m.id} className={`radio-card${mode === m.id ? ' checked' : ''}`} data-testid={`lake-upload-mode-${m.id}`}>
                <input type="radio" name="lu-mode" value={m.id} checked={mode === m.id} onChange={() => chooseMode(m.id)} />
                <span className="radio-card-title">{m.label}</span>
                <span className="radio-card-help">{m.help}</span>
              </label>
            ))}
          </div>
        </fieldset>
        {mode === 'replace' && (
          <label className="checkbox callout callout-warning lake-confirm" data-testid="lake-upload-confirm-replace">
            <input type="checkbox" checked={confirmReplace} onChange={(e) => setConfirmReplace(e.target.checked)} />
            <span>
              Delete every row of <strong className="mono">{name.trim() || 'the table'}</strong>
              {existing ? ` (${formatCount(existing.rowCount)} rows)` : ''} before writing these.
            </span>
          </label>
        )}
        <label className="checkbox">
          <input type="checkbox" checked={versioned} onChange={(e) => setVersioned(e.target.checked)} data-testid="lake-upload-versioned" />
          <span>
            Versioned: add <span className="mono">VERSION</span> (the table’s newest + 1) and <span className="mono">CREATED_AT</span> to these rows
          </span>
        </label>
        <ErrorText error={upload.error} testId="lake-upload-error" />
        <div className="dialog-footer">
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" variant="primary" pending={upload.isPending} disabled={blocked} data-testid="lake-upload-submit">
            Upload
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
