import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorBodySchema } from '@forja/contracts';
import { DIALECTS } from '../testing/databases.js';
import { http, startTestServer, type TestServer } from '../testing/server.js';

interface Media {
  schema?: { $ref?: string; type?: string; format?: string; properties?: Record<string, { type?: string; format?: string; items?: { format?: string } }> };
}
interface Operation {
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, { content?: Record<string, Media> }>;
}
type Doc = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, any> } };

const ERROR_REF = '#/components/schemas/ErrorBody';
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

const operations = (doc: Doc) =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((m) => ({ label: `${m.toUpperCase()} ${path}`, path, method: m, op: item[m]! })),
  );

/** Routes whose handlers read a multipart form themselves. */
const MULTIPART = [
  'POST /api/v1/deployments',
  'POST /api/v1/deployments/{id}/executions',
  'POST /api/v1/batch/projects/{name}/deploys',
  'POST /api/v1/training/runs',
  'PUT /api/v1/pipelines/{name}',
  'POST /api/v1/monitors/codex',
  'POST /api/v1/monitors/{id}/reference',
  'POST /api/v1/drift',
];

for (const dialect of DIALECTS) {
  describe(`the OpenAPI document on ${dialect}`, () => {
    let s: TestServer;
    let doc: Doc;

    before(async () => {
      s = await startTestServer({ dialect });
      doc = (await http<Doc>(s.url, 'GET', '/api/v1/openapi.json')).body;
    });
    after(() => s.close());

    test('every operation declares its 4xx errors with the shared ErrorBody schema, and 500', () => {
      const ops = operations(doc);
      assert.ok(ops.length > 100, `only ${ops.length} operations documented`);
      for (const { label, op } of ops) {
        const errors = Object.entries(op.responses).filter(
          ([status, r]) => /^[45]\d\d$/.test(status) && r.content?.['application/json']?.schema?.$ref === ERROR_REF,
        );
        assert.ok(
          errors.some(([status]) => status.startsWith('4')),
          `${label} declares no 4xx with the ErrorBody schema`,
        );
        assert.ok(
          errors.some(([status]) => status === '500'),
          `${label} declares no 500`,
        );
        assert.ok(op.responses['401'], `${label}: any route answers 401 to a bad token`);
      }
      const body = doc.components.schemas.ErrorBody;
      assert.deepEqual(body.required, ['error']);
      assert.deepEqual(Object.keys(body.properties.error.properties).sort(), ['code', 'details', 'message', 'requestId']);
      assert.ok(body.properties.error.properties.code.enum.includes('INVALID_ARGUMENT'));
    });

    test('what a route can answer follows from it: 403 when it needs a role, 409/413/415 when it writes, 422/504 on predictions', () => {
      const op = (label: string) => operations(doc).find((o) => o.label === label)!.op;
      const statuses = (label: string) => Object.keys(op(label).responses).sort();
      assert.deepEqual(statuses('GET /health'), ['200', '401', '429', '500', '503']);
      assert.deepEqual(statuses('POST /api/v1/experiments'), ['201', '400', '401', '403', '404', '409', '413', '415', '429', '500', '503']);
      assert.ok(!statuses('GET /api/v1/whoami').includes('409'));
      for (const predict of ['POST /api/v1/deployments/{id}/predict', 'POST /api/v1/lake/predict']) {
        assert.ok(statuses(predict).includes('422') && statuses(predict).includes('504'), predict);
      }
    });

    test('multipart uploads declare multipart/form-data with their files as binary and their fields', () => {
      for (const label of MULTIPART) {
        const found = operations(doc).find((o) => o.label === label);
        assert.ok(found, `${label} is documented`);
        const form = found.op.requestBody?.content['multipart/form-data']?.schema;
        assert.ok(form?.properties, `${label} declares a multipart/form-data body`);
        const binary = Object.values(form.properties).filter((p) => p.format === 'binary' || p.items?.format === 'binary');
        assert.ok(binary.length > 0, `${label} declares its files as binary`);
      }
      const deploy = operations(doc).find((o) => o.label === 'POST /api/v1/deployments')!.op.requestBody!.content['multipart/form-data']!.schema!;
      assert.equal(deploy.properties!.source!.format, 'binary');
      assert.equal(deploy.properties!.extra!.items!.format, 'binary', 'extra files repeat');
      assert.equal(deploy.properties!.name!.type, 'string', 'the text fields sit beside the files');
      const everyMultipart = operations(doc)
        .filter((o) => o.op.requestBody?.content['multipart/form-data'])
        .map((o) => o.label);
      assert.deepEqual(everyMultipart.sort(), [...MULTIPART].sort());
    });

    test('raw bodies and streamed files declare their content types', () => {
      const op = (label: string) => operations(doc).find((o) => o.label === label)!.op;
      const bodyTypes = (label: string) => Object.keys(op(label).requestBody?.content ?? {}).sort();
      const okTypes = (label: string, status = '200') => Object.keys(op(label).responses[status]?.content ?? {}).sort();
      assert.deepEqual(bodyTypes('PUT /api/v1/uploads/{uploadId}'), ['application/octet-stream']);
      assert.deepEqual(bodyTypes('PUT /api/v1/runs/{runId}/artifacts/file'), ['application/octet-stream']);
      assert.equal(op('PUT /api/v1/uploads/{uploadId}').requestBody!.content['application/octet-stream']!.schema!.format, 'binary');
      assert.ok(bodyTypes('POST /api/v1/lake/tables/{name}/rows').includes('text/csv'));
      assert.ok(bodyTypes('POST /api/v1/lake/tables/{name}/rows').includes('application/vnd.apache.parquet'));
      assert.ok(!bodyTypes('POST /api/v1/lake/predict').includes('text/csv'), 'scoring reads Parquet only');
      assert.deepEqual(
        bodyTypes('POST /api/v1/deployments/{id}/predict').filter((t) => !t.includes('parquet') && t !== 'application/octet-stream'),
        ['application/json', 'text/csv'],
      );
      assert.deepEqual(okTypes('GET /api/v1/lake/tables/{name}/export'), ['application/vnd.apache.parquet', 'text/csv']);
      assert.deepEqual(okTypes('POST /api/v1/lake/tables/{name}/query'), ['application/json', 'application/vnd.apache.parquet', 'text/csv']);
      assert.deepEqual(okTypes('GET /api/v1/deployments/{id}/executions/{executionId}/result'), ['application/octet-stream']);
      const artifact = okTypes('GET /api/v1/runs/{runId}/artifacts/file');
      assert.ok(artifact.includes('application/octet-stream') && artifact.includes('text/csv') && artifact.includes('image/png'), artifact.join());
    });

    test('errors really have the documented shape, validation details included', async () => {
      const missing = await http(s.url, 'GET', '/api/v1/deployments/nope', { token: s.adminToken });
      assert.equal(missing.status, 404);
      assert.equal(ErrorBodySchema.parse(missing.body).error.code, 'NOT_FOUND');
      const invalid = await http(s.url, 'POST', '/api/v1/experiments', { token: s.adminToken, body: { name: '', nope: 1 } });
      assert.equal(invalid.status, 400);
      const parsed = ErrorBodySchema.parse(invalid.body);
      assert.ok((parsed.error.details as { issues: unknown[] }).issues.length > 0, 'details survive the response schema');
      assert.equal(parsed.error.requestId, invalid.headers.get('x-request-id'));
    });

    test('every route documented as multipart refuses a form without its boundary as a 400, not a crash', async () => {
      // The form is read before what the path names is looked up, so missing ones do not hide the answer.
      const params: Record<string, string> = { id: 'nope', name: 'nope' };
      for (const label of MULTIPART) {
        const [method, path] = label.split(' ') as [string, string];
        const url = path.replace(/\{(\w+)\}/g, (_, p: string) => params[p]!);
        const r = await http(s.url, method, url, { token: s.adminToken, rawBody: 'x', headers: { 'content-type': 'multipart/form-data' } });
        assert.equal(r.status, 400, `${label}: ${r.text}`);
        assert.equal(r.body.error.code, 'MALFORMED_REQUEST', label);
      }
    });
  });
}
