// Every operation of the server's OpenAPI document has a method in this SDK, or is listed in
// absent-routes.json with the reason it has none. Which route a method calls is not declared but
// observed: every method of a client is called with placeholder arguments, its fetch records the
// request and answers an error. So a new route without a method fails here, and so does a method
// whose route went away or moved.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startTestServer, http, type TestServer } from '@forja/server/testing';
import { ForjaClient } from './client.js';

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
const ABSENT_FILE = new URL('./absent-routes.json', import.meta.url);

/**
 * The calls to make of the methods that one call with placeholder strings cannot drive: a file
 * must be a Blob, stages a list, and `batch.schedules` reaches another route without its name.
 */
const CALLS: Record<string, unknown[][]> = {
  'deployments.execute': [['p0', new Blob(['a,b\n1,2\n']), 'input.csv']],
  'models.latest': [['p0', ['Production']]],
  'batch.schedules': [['p0'], []],
  'monitors.uploadReference': [['p0', new Blob(['a\n1\n']), 'reference.csv']],
};
/** Methods that only build a URL, for a caller that sends it itself. */
const URL_BUILDERS = ['runs.artifactUrl', 'deployments.invocationsUrl'];

interface Operation {
  /** "GET /api/v1/runs/{runId}" */
  label: string;
  pattern: RegExp;
  params: number;
}

function operationsOf(doc: { paths: Record<string, Record<string, unknown>> }): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((m) => ({
      label: `${m.toUpperCase()} ${path}`,
      pattern: new RegExp(`^${m.toUpperCase()} ${path.replace(/\{[^}]+\}/g, '[^/]+')}$`),
      params: (path.match(/\{/g) ?? []).length,
    })),
  );
}

/** The operation a request was for: of the templates it fits, the most literal (`/models/resolve` before `/models/{name}`). */
function operationOf(request: string, ops: Operation[]): Operation | undefined {
  return ops.filter((o) => o.pattern.test(request)).sort((a, b) => a.params - b.params)[0];
}

/** Every public method of the SDK as [name, function]: the client's own (login, whoami…) and its namespaces' (runs.get…). */
function sdkMethods(client: ForjaClient): [string, (...args: unknown[]) => unknown][] {
  const own = Object.getOwnPropertyNames(ForjaClient.prototype)
    .filter((name) => !['constructor', 'send', 'request'].includes(name))
    .map((name) => [name, (client as any)[name].bind(client)] as [string, (...args: unknown[]) => unknown]);
  const namespaced = Object.entries(client)
    .filter(([, v]) => v !== null && typeof v === 'object')
    .flatMap(([ns, v]) =>
      Object.entries(v as Record<string, unknown>)
        .filter(([, fn]) => typeof fn === 'function')
        .map(([name, fn]) => [`${ns}.${name}`, fn] as [string, (...args: unknown[]) => unknown]),
    );
  return [...own, ...namespaced];
}

/** The requests each SDK method sends, as "METHOD /path". */
async function requestsByMethod(): Promise<Map<string, string[]>> {
  let sent: string[] = [];
  const client = new ForjaClient({
    baseUrl: 'http://sdk.invalid',
    retries: 0,
    fetch: async (input, init) => {
      sent.push(`${init?.method ?? 'GET'} ${new URL(String(input)).pathname}`);
      return new Response('{"error":{"code":"INTERNAL","message":"recorded"}}', { status: 418 });
    },
  });
  const out = new Map<string, string[]>();
  for (const [name, fn] of sdkMethods(client)) {
    sent = [];
    for (const args of CALLS[name] ?? [Array.from({ length: fn.length }, (_, i) => `p${i}`)]) {
      try {
        await fn(...args);
      } catch {
        // Every call ends on the recorded 418; what was sent is the point.
      }
    }
    out.set(name, sent);
  }
  return out;
}

let s: TestServer;
let ops: Operation[];
let byMethod: Map<string, string[]>;
const absent = JSON.parse(readFileSync(ABSENT_FILE, 'utf8')) as Record<string, string>;

before(async () => {
  s = await startTestServer();
  ops = operationsOf((await http(s.url, 'GET', '/api/v1/openapi.json')).body);
  byMethod = await requestsByMethod();
});
after(() => s.close());

test('every documented route has a TS SDK method, or a reason in absent-routes.json', () => {
  assert.ok(ops.length > 100, `only ${ops.length} operations documented`);
  const covered = new Set([...byMethod.values()].flat().map((r) => operationOf(r, ops)?.label));
  const missing = ops.map((o) => o.label).filter((label) => !covered.has(label) && !(label in absent));
  assert.deepEqual(missing, [], 'add a method to packages/client (or list the route in absent-routes.json with why it has none)');
  console.log(
    `# ${ops.length} operations: ${covered.size - (covered.has(undefined) ? 1 : 0)} have a TS SDK method, ${Object.keys(absent).length} are listed absent`,
  );
});

test('every request an SDK method sends is a documented route', () => {
  const unknown = [...byMethod].flatMap(([name, requests]) => requests.filter((r) => !operationOf(r, ops)).map((r) => `${name}: ${r}`));
  assert.deepEqual(unknown, []);
});

test('every other SDK method sends a request when called (else it covers nothing here: give it CALLS)', () => {
  const silent = [...byMethod].filter(([name, requests]) => requests.length === 0 && !URL_BUILDERS.includes(name)).map(([name]) => name);
  assert.deepEqual(silent, []);
});

test('absent-routes.json lists only documented routes that have no method, each with a reason', () => {
  const labels = new Set(ops.map((o) => o.label));
  const covered = new Set([...byMethod.values()].flat().map((r) => operationOf(r, ops)?.label));
  for (const [label, reason] of Object.entries(absent)) {
    assert.ok(labels.has(label), `${label} is listed absent but the server documents no such route`);
    assert.ok(!covered.has(label), `${label} is listed absent but the SDK has a method for it`);
    assert.ok(reason.trim().length > 10, `${label} needs a reason`);
  }
});
