import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { ForjaClient } from '@forja/client';
import { startTestServer, type TestServer } from '@forja/server/testing';
import { runCli, tempDir } from './testing.js';

/** A Parquet file made by DuckDB from a SELECT. */
async function writeParquet(file: string, select: string): Promise<void> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  await c.run(`COPY (${select}) TO '${file}' (FORMAT parquet)`);
  c.closeSync();
  db.closeSync();
}

/** The data rows of an aligned table, split on runs of 2+ spaces. */
const tableRows = (out: string) =>
  out
    .trimEnd()
    .split('\n')
    .map((l) => l.split(/ {2,}/));

describe('forja monitor against a live server', () => {
  let s: TestServer;
  let env: Record<string, string>;
  let dir: string;
  const cli = (args: string[]) => runCli(args, { env });
  const file = (name: string) => path.join(dir, name);

  before(async () => {
    s = await startTestServer();
    dir = tempDir('forja-monitor-cli-');
    env = { FORJA_URL: s.url, FORJA_TOKEN: s.adminToken, FORJA_CONFIG: path.join(dir, 'c.json') };
    // One day of scored rows (2026-11-02): `x` moved up by 5 against the reference, `y` drawn the same way as there.
    await writeParquet(file('ref.parquet'), 'SELECT (i % 100) / 10.0 AS x, ((i * 37) % 100) / 10.0 AS y FROM range(2000) t(i)');
    await writeParquet(
      file('cur.parquet'),
      `SELECT TIMESTAMP '2026-11-02 00:00:00' + INTERVAL (i * 40) SECOND AS at, (i % 100) / 10.0 + 5 AS x, ((i * 37 + 11) % 100) / 10.0 AS y FROM range(1500) t(i)`,
    );
    await writeParquet(file('empty.parquet'), 'SELECT 1.0 AS x, 2.0 AS y WHERE false');
    for (const t of ['ref', 'cur']) assert.equal((await cli(['lake', 'import', file(`${t}.parquet`), t])).status, 0);
  });
  after(() => s.close());

  test('create, list, run with the drift table, status, report', async () => {
    const created = await cli([
      'monitor',
      'create',
      'watch',
      '--table',
      'cur',
      '--time-column',
      'at',
      '--reference-table',
      'ref',
      '--period',
      'day',
      '--no-schedule',
    ]);
    assert.equal(created.status, 0, created.stderr);
    const monitorId = /^Monitor watch \((\w+)\) created: day windows, on demand\.$/m.exec(created.stdout)?.[1];
    assert.ok(monitorId, created.stdout);
    const api = new ForjaClient({ baseUrl: s.url, token: s.adminToken });
    await api.alerts.createRule(monitorId, { name: 'half drifted', metric: 'drift.share', operator: '>=', threshold: 0.5, severity: 'critical' });

    const list = await cli(['monitor', 'list']);
    assert.equal(list.status, 0, list.stderr);
    const row = tableRows(list.stdout).find((r) => r[1] === 'watch');
    assert.deepEqual(row?.slice(2, 5), ['table cur', 'day', 'on demand']);

    const run = await cli(['monitor', 'run', 'watch', '--from', '2026-11-02', '--to', '2026-11-03']);
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stderr, /^Run \w+ of watch, job \w+…$/m);
    assert.match(run.stdout, /^Run \w+ succeeded: window 2026-11-02T00:00:00Z → 2026-11-03T00:00:00Z, 1500 rows$/m);
    assert.match(run.stdout, /^1 of 2 columns drifted/m);
    const drift = new Map(tableRows(run.stdout.slice(run.stdout.indexOf('COLUMN'))).map((r) => [r[0], r]));
    assert.equal(drift.get('x')?.[6], 'yes');
    assert.equal(drift.get('y')?.[6], 'no');

    const status = await cli(['monitor', 'status', 'watch']);
    assert.equal(status.status, 0, status.stderr);
    assert.match(status.stdout, /^target\s+table cur \(at\)$/m);
    assert.match(status.stdout, /^\w+\s+succeeded\s+manual\s+2026-11-03T00:00:00Z\s+1500\s+0\.5$/m);

    assert.match(status.stdout, /^Open alerts:\n {2}\[critical\] half drifted: drift\.share = 0\.5 >= 0\.5 \(run \w+\)$/m);
    const json = JSON.parse((await cli(['monitor', 'status', 'watch', '--json'])).stdout);
    assert.equal(json.runs[0].metrics['drift.share'], 0.5);

    const out = file('report.html');
    const report = await cli(['monitor', 'report', 'watch', '--out', out]);
    assert.equal(report.status, 0, report.stderr);
    assert.match(report.stdout, /^Report of run \w+ saved to .*report\.html$/m);
    assert.match(readFileSync(out, 'utf8'), /<html/i);
  });

  test('a reference file is uploaded as the reference', async () => {
    const up = await cli(['monitor', 'create', 'uploaded', '--table', 'cur', '--time-column', 'at', '--reference-file', file('ref.parquet'), '--json']);
    assert.equal(up.status, 0, up.stderr);
    assert.deepEqual(JSON.parse(up.stdout).reference, { kind: 'file', name: 'ref.parquet', rows: 2000 });
  });

  test('bad input is refused, naming the problem', async () => {
    const period = await cli(['monitor', 'create', 'x', '--table', 'cur', '--time-column', 'at', '--period', 'fortnight']);
    assert.equal(period.status, 1);
    assert.match(period.stderr, /--period must be one of hour, day, week, month \(got "fortnight"\)/);
    const both = await cli(['monitor', 'create', 'x', '--table', 'cur', '--deployment', 'd']);
    assert.match(both.stderr, /give exactly one of --deployment and --table/);
    const noTime = await cli(['monitor', 'create', 'x', '--table', 'cur']);
    assert.match(noTime.stderr, /--table cur needs --time-column/);
    const twoRefs = await cli(['monitor', 'create', 'x', '--table', 'cur', '--time-column', 'at', '--reference-table', 'ref', '--reference-run', 'r']);
    assert.match(twoRefs.stderr, /give one reference/);
    const badJson = await cli(['monitor', 'create', 'x', '--table', 'cur', '--time-column', 'at', '--checks', '{drift']);
    assert.match(badJson.stderr, /--checks is not valid JSON/);

    const cols = await cli([
      'monitor',
      'create',
      'x',
      '--table',
      'cur',
      '--time-column',
      'at',
      '--reference-table',
      'ref',
      '--input',
      'x',
      '--input',
      'income',
    ]);
    assert.equal(cols.status, 1);
    assert.match(cols.stderr, /income.*\[INVALID_ARGUMENT, HTTP 400/);

    const empty = await cli(['monitor', 'create', 'empty', '--table', 'cur', '--time-column', 'at', '--reference-file', file('empty.parquet')]);
    assert.equal(empty.status, 1);
    assert.match(empty.stderr, /no rows.*\[INVALID_ARGUMENT, HTTP 400/);
    assert.doesNotMatch((await cli(['monitor', 'list'])).stdout, /\bempty\b/, 'the refused reference leaves no monitor behind');

    const time = await cli(['monitor', 'run', 'watch', '--from', 'yesterday']);
    assert.match(time.stderr, /--from "yesterday" is not a time/);
    const missing = await cli(['monitor', 'run', 'no-such-monitor']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /\[NOT_FOUND, HTTP 404/);
    writeFileSync(file('codex.json'), JSON.stringify({ Period: 'Day', TrainData: {}, InputCols: ['x'], OutputCols: ['prediction'] }));
    const codex = await cli(['monitor', 'create', 'cx', '--codex', file('codex.json')]);
    assert.match(codex.stderr, /--codex sets up a monitor of a deployment: give --deployment/);
  });
});
