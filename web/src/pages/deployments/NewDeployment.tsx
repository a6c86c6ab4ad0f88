import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import type { Deployment } from '@forja/contracts';
import { useClient, useSession } from '../../session';
import { keys } from '../../hooks';
import { Button, Dialog, ErrorText, Field } from '../../components/ui';

type Created = (d: Deployment) => void | Promise<void>;

const NAME_HINT = 'Unique in the group: letters, digits, “_”, “.” and “-”.';
const PYTHON_HINT = 'One installed on the server, e.g. 3.11.';

/** Parses the optional JSON of a textarea: undefined when empty, an error message when it is not JSON. */
function parseOptionalJson(text: string): { value?: unknown; error?: string } {
  if (!text.trim()) return {};
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (err) {
    return { error: `Not valid JSON: ${(err as Error).message}` };
  }
}

/** Deploys a version of a registered model with no code (POST /deployments/from-model); `modelUri` prefills the model, e.g. from a version's page. */
export function FromModelDialog({
  open,
  onClose,
  onCreated,
  modelUri: initialUri = 'models:/',
}: {
  open: boolean;
  onClose: () => void;
  onCreated: Created;
  modelUri?: string;
}) {
  const client = useClient();
  const { group } = useSession();
  const [name, setName] = useState('');
  const [modelUri, setModelUri] = useState(initialUri);
  const [kind, setKind] = useState<'pyfunc' | 'pickle'>('pyfunc');
  const [predictMethod, setPredictMethod] = useState<'predict' | 'predict_proba'>('predict');
  const [pythonVersion, setPythonVersion] = useState('');
  const [sample, setSample] = useState('');
  const parsed = parseOptionalJson(sample);

  // URIs of the group's models to pick from: each alias and the newest version per stage.
  const models = useQuery({
    queryKey: keys.models(group, { picker: true }),
    queryFn: () => client.models.search({ maxResults: 100 }),
    enabled: open && Boolean(group),
  });
  const suggestions = (models.data?.registeredModels ?? []).flatMap((m) => [
    ...m.aliases.map((a) => `models:/${m.name}@${a.alias}`),
    ...m.latestVersions.map((v) => `models:/${m.name}/${v.version}`),
    `models:/${m.name}/latest`,
  ]);

  const create = useMutation({
    mutationFn: () =>
      client.deployments.fromModel({
        name: name.trim(),
        modelUri: modelUri.trim(),
        kind,
        predictMethod,
        pythonVersion: pythonVersion.trim(),
        ...(parsed.value !== undefined ? { schemaSample: parsed.value } : {}),
      }),
    onSuccess: async ({ deployment }) => {
      await onCreated(deployment);
      close();
    },
  });
  const close = () => {
    setName('');
    setModelUri(initialUri);
    setKind('pyfunc');
    setPredictMethod('predict');
    setPythonVersion('');
    setSample('');
    create.reset();
    onClose();
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!parsed.error) create.mutate();
  };

  return (
    <Dialog open={open} onClose={close} title="Deploy a registered model" testId="from-model-dialog" width={540}>
      <form className="form" onSubmit={submit}>
        <div className="form-row">
          <Field label="Name" htmlFor="fm-name" hint={NAME_HINT}>
            <input id="fm-name" required autoFocus maxLength={100} value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. churn" />
          </Field>
          <Field label="Python version" htmlFor="fm-python" hint={PYTHON_HINT}>
            <input id="fm-python" value={pythonVersion} onChange={(e) => setPythonVersion(e.target.value)} placeholder="server default" />
          </Field>
        </div>
        <Field
          label="Model URI"
          htmlFor="fm-uri"
          hint="models:/name@alias, models:/name/3 or models:/name/Production. The version's files are copied now: moving the alias later does not change this deployment."
        >
          <input
            id="fm-uri"
            required
            className="mono"
            list="fm-uri-options"
            value={modelUri}
            onChange={(e) => setModelUri(e.target.value)}
            placeholder="models:/churn@champion"
          />
          <datalist id="fm-uri-options">
            {[...new Set(suggestions)].map((s) => (
              <option key={s} value={s} />
            ))}
          </datalist>
        </Field>
        <div className="form-row">
          <Field
            label="Kind"
            htmlFor="fm-kind"
            hint={kind === 'pyfunc' ? 'An MLflow model, loaded with mlflow.pyfunc.' : 'The .pkl / .joblib file of the version’s folder.'}
          >
            <select id="fm-kind" value={kind} onChange={(e) => setKind(e.target.value as 'pyfunc' | 'pickle')}>
              <option value="pyfunc">pyfunc (MLflow model)</option>
              <option value="pickle">pickle (estimator file)</option>
            </select>
          </Field>
          <Field label="Predict method" htmlFor="fm-method" hint="What a pickled estimator is called with.">
            <select
              id="fm-method"
              value={predictMethod}
              disabled={kind !== 'pickle'}
              onChange={(e) => setPredictMethod(e.target.value as 'predict' | 'predict_proba')}
            >
              <option value="predict">predict</option>
              <option value="predict_proba">predict_proba</option>
            </select>
          </Field>
        </div>
        <Field
          label="Schema sample (optional)"
          htmlFor="fm-sample"
          hint={
            parsed.error ? (
              <span className="text-danger" data-testid="sample-error">
                {parsed.error}
              </span>
            ) : (
              'One or more input rows as JSON: the build makes a test call with it, and every prediction must have its fields with the same types.'
            )
          }
        >
          <textarea
            id="fm-sample"
            rows={4}
            className="mono"
            value={sample}
            onChange={(e) => setSample(e.target.value)}
            placeholder='[{"tenure": 12, "plan": "pro"}]'
            aria-invalid={parsed.error ? true : undefined}
          />
        </Field>
        <ErrorText error={create.error} />
        <div className="dialog-footer">
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" variant="primary" pending={create.isPending} disabled={Boolean(parsed.error)}>
            Deploy
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

const FILE_FIELDS = [
  { field: 'source', label: 'Source', accept: '.py,.ipynb', hint: 'The scorer: a .py with the entrypoint function, or a notebook.' },
  { field: 'model', label: 'Model file', accept: undefined, hint: 'The scorer finds its name in $modelFileName.' },
  { field: 'requirements', label: 'Requirements', accept: '.txt', hint: 'requirements.txt, installed with uv.' },
  { field: 'schema', label: 'Schema sample', accept: '.json', hint: 'JSON input rows for the test call and the input check.' },
  { field: 'env', label: 'Secrets (.env)', accept: undefined, hint: 'KEY=VALUE lines, stored encrypted, never shown again.' },
] as const;
type FileField = (typeof FILE_FIELDS)[number]['field'];

/** Deploys uploaded files, MLOps Codex style (multipart POST /deployments). */
export function UploadDialog({ open, onClose, onCreated }: { open: boolean; onClose: () => void; onCreated: Created }) {
  const client = useClient();
  const [name, setName] = useState('');
  const [kind, setKind] = useState<'script' | 'pickle'>('script');
  const [entrypoint, setEntrypoint] = useState('score');
  const [pythonVersion, setPythonVersion] = useState('');
  const [files, setFiles] = useState<Partial<Record<FileField, File>>>({});
  const [extra, setExtra] = useState<File[]>([]);
  // Remounts the file inputs on reset: a file input's value cannot be set back to a file.
  const [generation, setGeneration] = useState(0);

  const create = useMutation({
    mutationFn: () => {
      const form = new FormData();
      form.append('name', name.trim());
      form.append('kind', kind);
      if (kind === 'script') form.append('entrypoint', entrypoint.trim() || 'score');
      if (pythonVersion.trim()) form.append('pythonVersion', pythonVersion.trim());
      for (const [field, file] of Object.entries(files)) if (file) form.append(field, file, file.name);
      for (const file of extra) form.append('extra', file, file.name);
      return client.deployments.upload(form);
    },
    onSuccess: async ({ deployment }) => {
      await onCreated(deployment);
      close();
    },
  });
  const close = () => {
    setName('');
    setKind('script');
    setEntrypoint('score');
    setPythonVersion('');
    setFiles({});
    setExtra([]);
    setGeneration((g) => g + 1);
    create.reset();
    onClose();
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };

  return (
    <Dialog open={open} onClose={close} title="Upload files" testId="upload-dialog" width={600}>
      <form className="form" onSubmit={submit} key={generation}>
        <div className="form-row">
          <Field label="Name" htmlFor="up-name" hint={NAME_HINT}>
            <input id="up-name" required autoFocus maxLength={100} value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. credit" />
          </Field>
          <Field label="Python version" htmlFor="up-python" hint={PYTHON_HINT}>
            <input id="up-python" value={pythonVersion} onChange={(e) => setPythonVersion(e.target.value)} placeholder="server default" />
          </Field>
        </div>
        <div className="form-row">
          <Field
            label="Kind"
            htmlFor="up-kind"
            hint={kind === 'script' ? 'score(data, base_path) gets the request body as a string.' : 'A pickled estimator, called with predict.'}
          >
            <select id="up-kind" value={kind} onChange={(e) => setKind(e.target.value as 'script' | 'pickle')}>
              <option value="script">script (a scorer function)</option>
              <option value="pickle">pickle (estimator file only)</option>
            </select>
          </Field>
          <Field label="Entrypoint" htmlFor="up-entrypoint" hint="The function of the source to call.">
            <input
              id="up-entrypoint"
              className="mono"
              required={kind === 'script'}
              disabled={kind !== 'script'}
              value={entrypoint}
              onChange={(e) => setEntrypoint(e.target.value)}
            />
          </Field>
        </div>
        <div className="upload-files">
          {FILE_FIELDS.map((f) => (
            <Field key={f.field} label={f.label} htmlFor={`up-${f.field}`} hint={f.hint}>
              <input
                id={`up-${f.field}`}
                type="file"
                className="file-input"
                accept={f.accept}
                required={(f.field === 'source' && kind === 'script') || (f.field === 'model' && kind === 'pickle')}
                onChange={(e) => setFiles((prev) => ({ ...prev, [f.field]: e.target.files?.[0] }))}
                data-testid={`upload-${f.field}`}
              />
            </Field>
          ))}
          <Field label="Extra files" htmlFor="up-extra" hint="Lookup tables and other files the scorer reads from base_path.">
            <input
              id="up-extra"
              type="file"
              multiple
              className="file-input"
              onChange={(e) => setExtra(Array.from(e.target.files ?? []))}
              data-testid="upload-extra"
            />
          </Field>
        </div>
        <ErrorText error={create.error} />
        <div className="dialog-footer">
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" variant="primary" pending={create.isPending}>
            Upload and build
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
