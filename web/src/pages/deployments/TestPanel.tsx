import { useMemo, useState, type FormEvent } from 'react';
import { useMutation } from '@tanstack/react-query';
import { ForjaApiError } from '@forja/client';
import type { Deployment } from '@forja/contracts';
import { errorMessage, useClient } from '../../session';
import { Badge, Button, ErrorText, Field } from '../../components/ui';
import { WarningIcon } from '../../components/icons';
import { num, TableHead } from '../../components/TableHead';
import { fieldsOf, initialText, shapeLike, fieldValue, type SampleField } from './sample';

/** One prediction made from the Test tab: what was sent, what came back, and how long it took. */
export interface PredictCall {
  seq: number;
  /** When the answer arrived (ms since the epoch). */
  at: number;
  /** Round trip as the browser saw it, retries of a 502-504 included. */
  ms: number;
  input: unknown;
  ok: boolean;
  /** HTTP status: 200, or the error's. Undefined when the server was not reached. */
  status?: number;
  output?: unknown;
  code?: string;
  message?: string;
}

/** Calls kept in the page for the history table and the latency chart. */
export const KEPT_CALLS = 200;
const SHOWN_CALLS = 10;

const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
export const formatMs = (ms: number) => `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
const compact = (v: unknown) => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s;
};

/** A form generated from the deployment's schema sample (or a JSON body), a Predict button, the answer and the last calls. */
export function TestPanel({
  deployment: d,
  calls,
  onCall,
}: {
  deployment: Deployment;
  calls: PredictCall[];
  onCall: (call: Omit<PredictCall, 'seq'>) => void;
}) {
  const client = useClient();
  const fields = useMemo(() => fieldsOf(d.schemaSample), [d.schemaSample]);
  const hasForm = fields.length > 0;
  const [mode, setMode] = useState<'form' | 'json'>(hasForm ? 'form' : 'json');
  const [texts, setTexts] = useState<Record<string, string>>(() => Object.fromEntries(fields.map((f) => [f.name, initialText(f)])));
  const [json, setJson] = useState(() => JSON.stringify(d.schemaSample ?? {}, null, 2));
  const [inputError, setInputError] = useState<string | null>(null);

  const formBody = () => shapeLike(d.schemaSample, Object.fromEntries(fields.map((f) => [f.name, fieldValue(f, texts[f.name] ?? '')])));
  const body = (): unknown => {
    if (mode === 'form') return formBody();
    try {
      return JSON.parse(json) as unknown;
    } catch (err) {
      throw new Error(`The body is not valid JSON: ${(err as Error).message}`);
    }
  };

  const predict = useMutation({
    mutationFn: async (input: unknown): Promise<Omit<PredictCall, 'seq'>> => {
      const started = performance.now();
      const done = () => ({ at: Date.now(), ms: performance.now() - started, input });
      try {
        const output = await client.deployments.predict(d.id, input);
        return { ...done(), ok: true, status: 200, output };
      } catch (err) {
        if (err instanceof ForjaApiError) return { ...done(), ok: false, status: err.status, code: err.code, message: err.message };
        return { ...done(), ok: false, message: errorMessage(err) };
      }
    },
    onSuccess: onCall,
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    let input: unknown;
    try {
      input = body();
    } catch (err) {
      setInputError((err as Error).message);
      return;
    }
    setInputError(null);
    predict.mutate(input);
  };
  const switchTo = (next: 'form' | 'json') => {
    if (next === mode) return;
    // The JSON view starts from what the form would send, so a row can be edited into a batch.
    if (next === 'json') {
      try {
        setJson(JSON.stringify(formBody(), null, 2));
      } catch {
        /* keeps the last JSON */
      }
    }
    setInputError(null);
    setMode(next);
  };

  const last = calls[calls.length - 1];
  return (
    <section aria-label="Test" className="test-panel">
      {d.status !== 'Deployed' && (
        <div className="callout callout-warning deployment-callout" data-testid="test-not-deployed">
          <WarningIcon size={14} />
          <span>
            This deployment is <strong>{d.status}</strong>: the server refuses predictions until it is deployed and enabled.
          </span>
        </div>
      )}
      <div className="detail-grid">
        <div className="card">
          <div className="card-head">
            <h3>Input</h3>
            <span className="muted small">
              {mode === 'form' ? `${fields.length} field${fields.length === 1 ? '' : 's'} from the schema sample` : 'JSON body'}
            </span>
            <div className="toolbar-spacer" />
            {hasForm && (
              <div className="segmented" role="radiogroup" aria-label="Input as">
                {(['form', 'json'] as const).map((m) => (
                  <button
                    key={m}
                    type="button"
                    role="radio"
                    aria-checked={mode === m}
                    className={mode === m ? 'active' : ''}
                    onClick={() => switchTo(m)}
                    data-testid={`test-mode-${m}`}
                  >
                    {m === 'form' ? 'Form' : 'JSON'}
                  </button>
                ))}
              </div>
            )}
          </div>
          <form className="card-pad form" onSubmit={submit} data-testid="test-form" aria-label="Prediction input">
            {mode === 'form' ? (
              <div className="test-fields">
                {fields.map((f) => (
                  <FieldInput key={f.name} field={f} text={texts[f.name] ?? ''} onChange={(t) => setTexts((prev) => ({ ...prev, [f.name]: t }))} />
                ))}
              </div>
            ) : (
              <Field
                label="Body"
                htmlFor="test-json"
                hint={
                  hasForm ? (
                    'Sent as application/json. A list of records, {"Input": …} and MLflow’s shapes work too.'
                  ) : (
                    <>This deployment has no schema sample, so there is no form: write the JSON body its model expects.</>
                  )
                }
              >
                <textarea
                  id="test-json"
                  className="mono"
                  rows={8}
                  value={json}
                  onChange={(e) => setJson(e.target.value)}
                  spellCheck={false}
                  data-testid="test-json"
                />
              </Field>
            )}
            {inputError && (
              <div className="form-error" role="alert" data-testid="test-input-error">
                <WarningIcon size={14} />
                <span>{inputError}</span>
              </div>
            )}
            <div className="row-actions">
              <Button type="submit" variant="primary" pending={predict.isPending} data-testid="predict">
                Predict
              </Button>
            </div>
          </form>
        </div>
        <div className="card">
          <div className="card-head">
            <h3>Answer</h3>
            {last && (
              <span className="muted small" data-testid="answer-ms">
                {formatMs(last.ms)}
              </span>
            )}
          </div>
          <div className="card-pad">
            {last ? <Answer call={last} /> : <p className="muted">Fill in the input and press Predict: the answer, or the server’s error, shows here.</p>}
          </div>
        </div>
      </div>
      {calls.length > 0 && <CallHistory calls={calls} />}
    </section>
  );
}

function FieldInput({ field: f, text, onChange }: { field: SampleField; text: string; onChange: (text: string) => void }) {
  const id = `test-field-${f.name}`;
  const hint = f.kind === 'json' ? 'JSON' : f.kind;
  if (f.kind === 'boolean') {
    return (
      <Field label={f.name} htmlFor={id} hint={hint}>
        <label className="checkbox">
          <input
            id={id}
            type="checkbox"
            checked={text === 'true'}
            onChange={(e) => onChange(e.target.checked ? 'true' : 'false')}
            data-testid={id}
            data-kind={f.kind}
          />
          <span className="muted">{text === 'true' ? 'true' : 'false'}</span>
        </label>
      </Field>
    );
  }
  return (
    <Field label={f.name} htmlFor={id} hint={hint}>
      <input
        id={id}
        type={f.kind === 'number' ? 'number' : 'text'}
        step={f.kind === 'number' ? 'any' : undefined}
        className={f.kind === 'json' ? 'mono' : undefined}
        value={text}
        onChange={(e) => onChange(e.target.value)}
        data-testid={id}
        data-kind={f.kind}
      />
    </Field>
  );
}

function Answer({ call }: { call: PredictCall }) {
  if (call.ok) {
    return (
      <div data-testid="predict-answer" data-ok="true">
        <div className="answer-status">
          <Badge tone="green">200 OK</Badge>
          <span className="muted small">in {formatMs(call.ms)}</span>
        </div>
        <pre className="json answer-json" data-testid="predict-output">
          {JSON.stringify(call.output, null, 2) ?? 'No body'}
        </pre>
      </div>
    );
  }
  return (
    <div data-testid="predict-answer" data-ok="false">
      <div className="answer-status">
        <Badge tone="red">{call.status ? `${call.status} ${call.code ?? ''}`.trim() : 'No answer'}</Badge>
        <span className="muted small">in {formatMs(call.ms)}</span>
      </div>
      <ErrorText error={new Error(call.message ?? 'The call failed.')} testId="predict-error" />
    </div>
  );
}

function CallHistory({ calls }: { calls: PredictCall[] }) {
  const shown = calls.slice(-SHOWN_CALLS).reverse();
  return (
    <div className="card table-card call-history" data-testid="call-history">
      <div className="card-head">
        <h3>Recent calls</h3>
        <span className="muted">
          {shown.length} of {calls.length} in this page
        </span>
      </div>
      <table className="table">
        <TableHead columns={['Time', 'Input', 'Status', 'Answer', num('Elapsed')]} />
        <tbody>
          {shown.map((c) => (
            <tr key={c.seq} data-testid="call-row" data-ok={c.ok}>
              <td className="mono small">{clock.format(new Date(c.at))}</td>
              <td>
                <div className="cell-ellipsis mono small call-cell" title={compact(c.input)}>
                  {compact(c.input)}
                </div>
              </td>
              <td>
                <Badge tone={c.ok ? 'green' : 'red'}>{c.ok ? '200' : (c.status ?? '—')}</Badge>
                {c.code && <span className="muted small"> {c.code}</span>}
              </td>
              <td>
                <div className={`cell-ellipsis small call-cell${c.ok ? ' mono' : ' text-danger'}`} title={c.ok ? compact(c.output) : c.message}>
                  {c.ok ? compact(c.output) : c.message}
                </div>
              </td>
              <td className="num mono small">{formatMs(c.ms)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
