import { Link, useSearchParams } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import type { LoggedModel, ModelVersion, SignatureField } from '@forja/contracts';
import { useClient, useSession } from '../../session';
import { keys } from '../../hooks';
import { Badge, EmptyState, ErrorText, Spinner, Time } from '../../components/ui';
import { CubeIcon } from '../../components/icons';
import { TableHead } from '../../components/TableHead';
import { modelPath, StageBadge } from '../models/format';
import { ArtifactBrowser, DataTable, downloadOf } from './Artifacts';
import { quoteLiteral } from './filters';
import { formatBytes } from './format';
import { exampleTable } from './inputExample';

/** An input example bigger than this is not previewed; its file is in the model's files. */
const EXAMPLE_MAX_BYTES = 512 * 1024;
const EXAMPLE_ROWS = 20;

export const loggedModelsKey = (runId: string) => [...keys.run(runId), 'logged-models'] as const;

/** The MLflow 3 logged models a run made, one at a time (?model=<id>), and the registered versions made from it. */
export function LoggedModels({ runId }: { runId: string }) {
  const client = useClient();
  const { group } = useSession();
  const [params, setParams] = useSearchParams();
  const models = useQuery({ queryKey: loggedModelsKey(runId), queryFn: () => client.runs.loggedModels(runId) });
  // Versions registered from the run, including those from its artifacts rather than a logged model.
  const versions = useQuery({
    queryKey: ['models', group ?? '', 'from-run', runId],
    queryFn: () => client.models.searchVersions({ filter: `run_id = ${quoteLiteral(runId)}`, maxResults: 100 }),
  });

  if (models.isPending) return <Spinner label="Loading logged models…" />;
  if (models.isError) return <ErrorText error={models.error} />;
  const list = models.data.models;
  const fromRun = versions.data?.modelVersions ?? [];
  const loose = fromRun.filter((v) => v.modelId === null || !list.some((m) => m.modelId === v.modelId));
  const chosen = list.find((m) => m.modelId === params.get('model')) ?? list[0];
  const choose = (id: string) => {
    const next = new URLSearchParams(params);
    next.set('model', id);
    next.delete('mdir');
    next.delete('mfile');
    setParams(next, { replace: true });
  };

  return (
    <div className="logged-models" data-testid="logged-models">
      {list.length === 0 ? (
        <div className="card">
          <EmptyState icon={<CubeIcon size={26} />} title="No logged models">
            A model logged with <code>mlflow.&lt;flavor&gt;.log_model(…)</code> in this run shows here with its signature, input example and files.
          </EmptyState>
        </div>
      ) : (
        <>
          {list.length > 1 && (
            <div className="segmented" role="radiogroup" aria-label="Logged model">
              {list.map((m) => (
                <button
                  key={m.modelId}
                  type="button"
                  role="radio"
                  aria-checked={m === chosen}
                  className={m === chosen ? 'active' : ''}
                  onClick={() => choose(m.modelId)}
                >
                  {m.name}
                </button>
              ))}
            </div>
          )}
          {chosen && <LoggedModelDetails key={chosen.modelId} model={chosen} versions={fromRun.filter((v) => v.modelId === chosen.modelId)} />}
        </>
      )}
      {loose.length > 0 && (
        <div className="card" data-testid="run-registered-versions">
          <div className="card-head">
            <h3>Registered from this run's artifacts</h3>
            <span className="muted">{loose.length}</span>
          </div>
          <VersionList versions={loose.map((v) => ({ name: v.name, version: v.version, stage: v.currentStage }))} />
        </div>
      )}
      <ErrorText error={versions.error} />
    </div>
  );
}

function LoggedModelDetails({ model: m, versions }: { model: LoggedModel; versions: ModelVersion[] }) {
  // The model's tag lists every version made from it, in any group; the search adds this group's stages.
  const registered = m.registeredVersions.map((r) => ({ ...r, stage: versions.find((v) => v.name === r.name && v.version === r.version)?.currentStage }));
  for (const v of versions)
    if (!registered.some((r) => r.name === v.name && r.version === v.version)) registered.push({ name: v.name, version: v.version, stage: v.currentStage });
  const ml = m.mlmodel;
  return (
    <section className="logged-model" aria-label={`Logged model ${m.name}`} data-testid="logged-model" data-model-id={m.modelId}>
      <div className="card card-pad">
        <h2 className="logged-model-title">
          {m.name}{' '}
          <Badge tone={m.status === 'LOGGED_MODEL_READY' ? 'green' : m.status === 'LOGGED_MODEL_PENDING' ? 'blue' : 'red'}>{statusText(m.status)}</Badge>
        </h2>
        <dl className="kv kv-wide" data-testid="logged-model-info">
          <dt>Flavors</dt>
          <dd data-testid="logged-model-flavors">
            {ml && ml.flavors.length > 0 ? (
              <span className="tag-list">
                {ml.flavors.map((f) => (
                  <Badge key={f.name} tone="accent">
                    {f.name}
                    {f.version && <span className="flavor-version"> {f.version}</span>}
                  </Badge>
                ))}
              </span>
            ) : (
              <span className="muted">{ml ? 'none named' : 'no MLmodel file'}</span>
            )}
          </dd>
          <dt>Registered as</dt>
          <dd data-testid="logged-model-versions">
            {registered.length === 0 ? <span className="muted">not registered</span> : <VersionList versions={registered} inline />}
          </dd>
          <dt>Model ID</dt>
          <dd className="mono">{m.modelId}</dd>
          <dt>Logged</dt>
          <dd>
            <Time at={m.creationTime} />
            {m.creatorId && <span className="muted"> by {m.creatorId}</span>}
            {ml?.mlflowVersion && <span className="muted"> · mlflow {ml.mlflowVersion}</span>}
            {ml?.sizeBytes != null && <span className="muted"> · {formatBytes(ml.sizeBytes)}</span>}
          </dd>
          <dt>Load it with</dt>
          <dd className="mono break">mlflow.pyfunc.load_model("models:/{m.modelId}")</dd>
        </dl>
      </div>
      {ml?.signature ? (
        <div className="detail-grid">
          <SignatureCard title="Inputs" fields={ml.signature.inputs} testId="signature-inputs" />
          <div className="detail-col">
            <SignatureCard title="Outputs" fields={ml.signature.outputs} testId="signature-outputs" />
            {ml.signature.params && ml.signature.params.length > 0 && (
              <SignatureCard title="Parameters" fields={ml.signature.params} testId="signature-params" />
            )}
          </div>
        </div>
      ) : (
        <div className="card card-pad muted" data-testid="no-signature">
          No signature: pass <code>input_example=</code> or <code>signature=</code> to <code>log_model</code> so callers know what it takes.
        </div>
      )}
      {ml?.inputExample && <InputExample modelId={m.modelId} path={ml.inputExample.path} format={ml.inputExample.format} />}
      <div className="card-head-plain">
        <h3>Files</h3>
      </div>
      <ArtifactBrowser owner={{ kind: 'logged-model', id: m.modelId }} rootUri={m.artifactUri} rootLabel={m.name} paramPrefix="m" />
    </section>
  );
}

const statusText = (s: string) => ({ LOGGED_MODEL_READY: 'ready', LOGGED_MODEL_PENDING: 'uploading', LOGGED_MODEL_UPLOAD_FAILED: 'upload failed' })[s] ?? s;

function VersionList({ versions, inline }: { versions: { name: string; version: string; stage?: string }[]; inline?: boolean }) {
  return (
    <ul className={inline ? 'version-links inline' : 'version-links card-pad'}>
      {versions.map((v) => (
        <li key={`${v.name}/${v.version}`}>
          <Link to={`${modelPath(v.name)}?version=${encodeURIComponent(v.version)}`} data-testid="registered-version-link">
            {v.name} v{v.version}
          </Link>{' '}
          {v.stage && <StageBadge stage={v.stage} />}
        </li>
      ))}
    </ul>
  );
}

function SignatureCard({ title, fields, testId }: { title: string; fields: (SignatureField & { default?: string | null })[] | null; testId: string }) {
  const withDefaults = fields?.some((f) => f.default !== undefined);
  return (
    <div className="card" data-testid={testId}>
      <div className="card-head">
        <h3>{title}</h3>
        {fields && <span className="muted">{fields.length}</span>}
      </div>
      {!fields || fields.length === 0 ? (
        <div className="card-pad muted">Not in the signature.</div>
      ) : (
        <div className="card-scroll">
          <table className="table kv-table">
            <TableHead columns={['Name', 'Type', withDefaults ? 'Default' : 'Required']} />
            <tbody>
              {fields.map((f, i) => (
                <tr key={`${f.name}-${i}`} data-testid="signature-row" data-name={f.name ?? ''}>
                  <td className="mono">{f.name ?? <span className="muted">(unnamed)</span>}</td>
                  <td className="mono">{f.type}</td>
                  <td>{withDefaults ? <span className="mono">{f.default ?? '—'}</span> : f.required ? 'required' : <span className="muted">optional</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

type Example = { kind: 'table'; header: string[]; rows: string[][]; more: number } | { kind: 'text'; text: string } | { kind: 'too-large' };

function InputExample({ modelId, path, format }: { modelId: string; path: string; format: string | null }) {
  const client = useClient();
  const example = useQuery({
    queryKey: ['logged-model', modelId, 'example', path],
    queryFn: async ({ signal }): Promise<Example> => {
      const res = await downloadOf(client, { kind: 'logged-model', id: modelId }, path, { signal });
      if (Number(res.headers.get('content-length') ?? 0) > EXAMPLE_MAX_BYTES) return { kind: 'too-large' };
      const text = await res.text();
      try {
        const table = exampleTable(JSON.parse(text));
        if (table) return { kind: 'table', header: table.header, rows: table.rows.slice(0, EXAMPLE_ROWS), more: Math.max(0, table.rows.length - EXAMPLE_ROWS) };
        return { kind: 'text', text: JSON.stringify(JSON.parse(text), null, 2) };
      } catch {
        return { kind: 'text', text };
      }
    },
    staleTime: 60_000,
  });
  return (
    <div className="card" data-testid="input-example">
      <div className="card-head">
        <h3>Input example</h3>
        <span className="muted small mono">{path}</span>
        {format && <span className="muted small">({format})</span>}
      </div>
      {example.isPending ? (
        <Spinner />
      ) : example.isError ? (
        <div className="card-pad">
          <ErrorText error={example.error} />
        </div>
      ) : example.data.kind === 'table' ? (
        <>
          <DataTable header={example.data.header} rows={example.data.rows} testId="input-example-table" />
          {example.data.more > 0 && <p className="preview-note muted small">and {example.data.more} more rows in the file.</p>}
        </>
      ) : example.data.kind === 'text' ? (
        <pre className="artifact-text" data-testid="input-example-text" tabIndex={0}>
          {example.data.text}
        </pre>
      ) : (
        <div className="card-pad muted">Too large to show here; it is among the model's files below.</div>
      )}
    </div>
  );
}
