// Reads what Schemathesis recorded (its NDJSON event log) and turns the failed cases into lines a
// person can act on: the route, the status, what the server logged, and a curl command.
import { createReadStream } from 'node:fs';
import readline from 'node:readline';

export interface SentRequest {
  /** Schemathesis' label: "POST /api/v1/runs/{runId}". */
  operation: string;
  method: string;
  uri: string;
  headers: Record<string, string>;
  body: Buffer;
}

export interface FailedCase {
  request: SentRequest;
  status: number | null;
  title: string;
  /** The request id of the server's error body, to find its log line. */
  requestId: string | undefined;
}

export interface RunRecord {
  /** The operations that were sent requests. */
  operations: Set<string>;
  failures: FailedCase[];
  /** What went wrong besides answers: a request that timed out, a schema Schemathesis cannot use. */
  errors: string[];
}

type Payload = { $base64?: string } | string | null | undefined;
const bytes = (p: Payload) => (p == null ? Buffer.alloc(0) : typeof p === 'string' ? Buffer.from(p) : Buffer.from(p.$base64 ?? '', 'base64'));

interface Interaction {
  request: { method: string; uri: string; headers: Record<string, string[]>; body?: Payload };
  response?: { status_code: number; content?: Payload } | null;
}
interface Check {
  name: string;
  status: string;
  failure_info?: { failure?: { title?: string; message?: string } } | null;
}

export async function readRun(ndjson: string): Promise<RunRecord> {
  const record: RunRecord = { operations: new Set(), failures: [], errors: [] };
  const lines = readline.createInterface({ input: createReadStream(ndjson), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.startsWith('{"NonFatalError"')) {
      const e = JSON.parse(line).NonFatalError as { label: string; phase?: string; value?: { type?: string; message?: string } };
      record.errors.push(`${e.label} (${e.phase ?? 'setup'} phase): ${e.value?.type ?? 'Error'}: ${e.value?.message ?? ''}`);
      continue;
    }
    if (!line.startsWith('{"ScenarioFinished"')) continue;
    // A skipped scenario (no examples in the schema, say) records no checks.
    const recorder = JSON.parse(line).ScenarioFinished.recorder as {
      label: string;
      checks?: Record<string, Check[]>;
      interactions?: Record<string, Interaction>;
    };
    if (recorder.interactions && Object.keys(recorder.interactions).length > 0) record.operations.add(recorder.label);
    for (const [caseId, checks] of Object.entries(recorder.checks ?? {})) {
      const failed = checks.find((c) => c.name === 'not_a_server_error' && c.status === 'failure');
      const interaction = recorder.interactions?.[caseId];
      if (!failed || !interaction) continue;
      const content = bytes(interaction.response?.content).toString('utf8');
      let requestId: string | undefined;
      try {
        requestId = (JSON.parse(content) as { error?: { requestId?: string } }).error?.requestId;
      } catch {
        requestId = undefined;
      }
      const headers = Object.fromEntries(Object.entries(interaction.request.headers).map(([k, v]) => [k, v.join(', ')]));
      record.failures.push({
        request: {
          operation: recorder.label,
          method: interaction.request.method,
          uri: interaction.request.uri,
          headers,
          body: bytes(interaction.request.body),
        },
        status: interaction.response?.status_code ?? null,
        title: failed.failure_info?.failure?.title ?? 'Server error',
        requestId,
      });
    }
  }
  return record;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** A command that sends the request again (the body cut short when long or binary). */
export function curl(r: SentRequest): string {
  const headers = Object.entries(r.headers)
    .filter(
      ([k]) =>
        !['authorization', 'user-agent', 'accept', 'accept-encoding', 'connection', 'content-length', 'x-schemathesis-testcaseid'].includes(k.toLowerCase()),
    )
    .map(([k, v]) => ` -H ${quote(`${k}: ${v}`)}`)
    .join('');
  const text = r.body.toString('utf8');
  const printable = !/[\u0000-\u0008\u000e-\u001f]/.test(text);
  const body =
    r.body.length === 0
      ? ''
      : printable
        ? ` --data-binary ${quote(text.length > 400 ? `${text.slice(0, 400)}…` : text)}`
        : ` --data-binary @<${r.body.length} binary bytes>`;
  return `curl -X ${r.method} -H 'Authorization: Bearer $TOKEN'${headers}${body} ${quote(r.uri)}`;
}
