import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { startTestServer, type TestServer } from '@forja/server/testing';
import { runCli, tempDir } from './testing.js';

const IRIS_CSV = ['id,species,sepal_length,note', '1,setosa,5.1,', '2,virginica,6.3,"big, one"', '3,setosa,4.9,x', '4,versicolor,5.8,'].join('\n') + '\n';

/** A Parquet file made by DuckDB from a SELECT, as pandas or pyarrow would write it. */
async function writeParquet(file: string, select: string): Promise<void> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  await c.run(`COPY (${select}) TO '${file}' (FORMAT parquet)`);
  c.closeSync();
  db.closeSync();
}

async function readParquet(file: string): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const rows = (await c.runAndReadAll(`SELECT * FROM read_parquet('${file}') ORDER BY 1`)).getRowObjectsJson();
  c.closeSync();
  db.closeSync();
  return rows as Record<string, unknown>[];
}

/** The data rows of an aligned table, split on runs of 2+ spaces (cells here never hold them). */
const tableRows = (out: string) =>
  out
    .trimEnd()
    .split('\n')
    .map((l) => l.split(/ {2,}/));

// On PostgreSQL the test server keeps the lake there too, so both engines are covered.
for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`forja lake (${dialect === 'sqlite' ? 'DuckDB' : 'PostgreSQL'} lake) against a live server`, () => {
    let s: TestServer;
    let env: Record<string, string>;
    let dir: string;
    const cli = (args: string[]) => runCli(args, { env });
    const file = (name: string) => path.join(dir, name);

    before(async () => {
      s = await startTestServer({ dialect, env: { FORJA_LAKE_MAX_UPLOAD_MB: '1' } });
      dir = tempDir('forja-lake-cli-');
      env = { FORJA_URL: s.url, FORJA_TOKEN: s.adminToken, FORJA_CONFIG: path.join(dir, 'c.json') };
      writeFileSync(file('iris.csv'), IRIS_CSV);
    });
    after(() => s.close());

    test('import a CSV, then ls, describe and head it', async () => {
      const imported = await cli(['lake', 'import', file('iris.csv'), 'iris']);
      assert.equal(imported.status, 0, imported.stderr);
      assert.equal(imported.stdout, '4 rows written to new table iris.\n');
      assert.match(imported.stderr, /^iris\.csv: 0\.1 KiB in [\d.]+ s$/m, 'off a terminal the progress bar ends in a summary');

      const ls = await cli(['lake', 'ls']);
      assert.equal(ls.status, 0, ls.stderr);
      const [header, iris] = tableRows(ls.stdout);
      assert.deepEqual(header, ['NAME', 'ROWS', 'COLUMNS', 'VERSION', 'UPDATED', 'CREATED BY']);
      assert.deepEqual(iris!.slice(0, 4), ['iris', '4', '4', '-']);
      assert.match(iris![4]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      const json = JSON.parse((await cli(['lake', 'ls', '--json'])).stdout);
      assert.equal(json[0].name, 'iris');
      assert.equal(json[0].rowCount, 4);

      const d = await cli(['lake', 'describe', 'iris']);
      assert.equal(d.status, 0, d.stderr);
      assert.match(d.stdout, /^engine\s+(duckdb|postgres)$/m);
      assert.match(d.stdout, new RegExp(`^engine\\s+${dialect === 'sqlite' ? 'duckdb' : 'postgres'}$`, 'm'));
      assert.match(d.stdout, /^rows\s+4$/m);
      assert.match(d.stdout, /^size\s+[\d.]+ (B|KiB|MiB)/m);
      assert.match(d.stdout, /^Columns \(4\):\n#\s+COLUMN\s+TYPE\n1\s+id\s+BIGINT\n2\s+species\s+VARCHAR\n3\s+sepal_length\s+DOUBLE\n4\s+note\s+VARCHAR$/m);
      assert.doesNotMatch(d.stdout, /Versions/, 'an unversioned table has no VERSION list');

      const head = await cli(['lake', 'head', 'iris', '-n', '3', '--order', 'sepal_length:desc']);
      assert.equal(head.status, 0, head.stderr);
      assert.deepEqual(tableRows(head.stdout), [
        ['ID', 'SPECIES', 'SEPAL_LENGTH', 'NOTE'],
        ['2', 'virginica', '6.3', 'big, one'],
        ['4', 'versicolor', '5.8', 'NULL'],
        ['1', 'setosa', '5.1', 'NULL'],
      ]);
      const filtered = await cli(['lake', 'head', 'iris', '--filter', "species = 'setosa' AND sepal_length < 5", '--columns', 'id,note', '--json']);
      assert.equal(filtered.status, 0, filtered.stderr);
      assert.deepEqual(JSON.parse(filtered.stdout), [{ id: 3, note: 'x' }]);
      const none = await cli(['lake', 'head', 'iris', '--filter', 'id > 100']);
      assert.equal(none.stdout, '(no rows; columns: id, species, sepal_length, note)\n');
    });

    test('versioned imports of a DuckDB-written Parquet file, read back by --version', async () => {
      await writeParquet(file('scores.parquet'), "SELECT range AS id, (range / 2)::DOUBLE AS score, 'r' || range AS label FROM range(5)");
      const first = await cli(['lake', 'import', file('scores.parquet'), 'scores', '--versioned']);
      assert.equal(first.status, 0, first.stderr);
      assert.equal(first.stdout, '5 rows written to new table scores as VERSION 1.\n');
      const second = await cli([
        'lake',
        'import',
        file('scores.parquet'),
        'scores',
        '--mode',
        'append',
        '--versioned',
        '--model-name',
        'scorer',
        '--model-version',
        '3',
      ]);
      assert.equal(second.status, 0, second.stderr);
      assert.equal(second.stdout, '5 rows written to scores as VERSION 2.\n');

      const d = await cli(['lake', 'describe', 'scores']);
      assert.match(d.stdout, /^rows\s+10$/m);
      assert.match(d.stdout, /^latest version\s+2$/m);
      assert.match(d.stdout, /^Versions \(2\):\nVERSION\s+ROWS\s+CREATED\s+MODEL\n2\s+5\s+\S+\s+scorer v3\n1\s+5\s+\S+\s+-$/m);

      // --version is also the program's own flag (it prints the CLI's version): on lake commands it means the table's.
      const latest = await cli(['lake', 'head', 'scores', '--version', 'latest', '--columns', 'id,VERSION,MODEL_NAME', '--order', 'id', '-n', '2']);
      assert.equal(latest.status, 0, latest.stderr);
      assert.deepEqual(tableRows(latest.stdout), [
        ['ID', 'VERSION', 'MODEL_NAME'],
        ['0', '2', 'scorer'],
        ['1', '2', 'scorer'],
      ]);
      const v1 = await cli(['lake', 'head', 'scores', '--version=1', '--json']);
      assert.deepEqual(
        JSON.parse(v1.stdout).map((r: { VERSION: number }) => r.VERSION),
        [1, 1, 1, 1, 1],
      );
      assert.match((await cli(['--version'])).stdout, /^\d+\.\d+\.\d+/, '`forja --version` still prints the version');
    });

    test('export to CSV and Parquet and import the file back: the same rows', async () => {
      const csv = await cli(['lake', 'export', 'iris', file('out.csv'), '--filter', "species = 'setosa'", '--columns', 'id,species']);
      assert.equal(csv.status, 0, csv.stderr);
      assert.equal(csv.stdout, `2 rows of iris exported to ${file('out.csv')}.\n`);
      assert.match(csv.stderr, /^out\.csv: [\d.]+ KiB in [\d.]+ s$/m);
      assert.deepEqual(readFileSync(file('out.csv'), 'utf8').trim().split(/\r?\n/), ['id,species', '1,setosa', '3,setosa']);
      const again = await cli(['lake', 'export', 'iris', file('out.csv')]);
      assert.equal(again.status, 1);
      assert.match(again.stderr, /out\.csv exists: pass --force to overwrite it/);

      const pq = await cli(['lake', 'export', 'scores', file('v2.parquet'), '--version', '2']);
      assert.equal(pq.status, 0, pq.stderr);
      assert.equal(pq.stdout, `5 rows of scores exported to ${file('v2.parquet')}.\n`);
      const exported = await readParquet(file('v2.parquet'));
      assert.deepEqual(
        exported.map((r) => [Number(r.id), r.score, r.label, Number(r.VERSION), r.MODEL_NAME]),
        [0, 1, 2, 3, 4].map((i) => [i, i * 0.5, `r${i}`, 2, 'scorer']),
      );

      const back = await cli(['lake', 'import', file('v2.parquet'), 'scores_copy']);
      assert.equal(back.status, 0, back.stderr);
      const copy = JSON.parse((await cli(['lake', 'head', 'scores_copy', '--order', 'id', '--columns', 'id,score,label,VERSION', '--json'])).stdout);
      assert.deepEqual(
        copy.map((r: Record<string, unknown>) => [Number(r.id), r.score, r.label, Number(r.VERSION)]),
        [0, 1, 2, 3, 4].map((i) => [i, i * 0.5, `r${i}`, 2]),
      );
      const csvBack = await cli(['lake', 'import', file('out.csv'), 'setosa']);
      assert.equal(csvBack.status, 0, csvBack.stderr);
      assert.deepEqual(JSON.parse((await cli(['lake', 'head', 'setosa', '--order', 'id', '--json'])).stdout), [
        { id: 1, species: 'setosa' },
        { id: 3, species: 'setosa' },
      ]);
      assert.deepEqual(
        readdirSync(dir).filter((f) => f.includes('.part-')),
        [],
        'no partial downloads left behind',
      );
    });

    test('replace needs --yes-replace (no prompt off a terminal); the other write errors are the server’s', async () => {
      const refused = await cli(['lake', 'import', file('iris.csv'), 'iris', '--mode', 'replace']);
      assert.equal(refused.status, 1);
      assert.equal(refused.stdout, '');
      assert.match(refused.stderr, /^forja: --mode replace deletes every row of iris first: pass --yes-replace to confirm\.$/m);
      writeFileSync(file('two.csv'), 'id,species,sepal_length,note\n7,setosa,5.0,a\n8,setosa,5.2,b\n');
      const replaced = await cli(['lake', 'import', file('two.csv'), 'iris', '--mode', 'replace', '--yes-replace']);
      assert.equal(replaced.status, 0, replaced.stderr);
      assert.equal(replaced.stdout, 'Replaced the rows of iris: 2 rows written.\n');
      assert.match((await cli(['lake', 'describe', 'iris'])).stdout, /^rows\s+2$/m);

      const exists = await cli(['lake', 'import', file('iris.csv'), 'iris']);
      assert.equal(exists.status, 1);
      assert.match(exists.stderr, /Table iris already exists.*\[ALREADY_EXISTS, HTTP 409/);
      writeFileSync(file('other.csv'), 'a,b\n1,2\n');
      const mismatch = await cli(['lake', 'import', file('other.csv'), 'iris', '--mode', 'append']);
      assert.equal(mismatch.status, 1);
      assert.match(
        mismatch.stderr,
        /do not match table iris: missing columns "id", "species", "sepal_length", "note"; columns the table does not have "a", "b"\..*HTTP 400/,
      );

      writeFileSync(file('big.csv'), 'id,text\n' + Array.from({ length: 40_000 }, (_, i) => `${i},${'x'.repeat(40)}`).join('\n') + '\n');
      const tooBig = await cli(['lake', 'import', file('big.csv'), 'big']);
      assert.equal(tooBig.status, 1);
      assert.match(tooBig.stderr, /larger than 1 MiB.*\[PAYLOAD_TOO_LARGE, HTTP 413/);

      const badExt = await cli(['lake', 'import', file('c.json'), 'x']);
      assert.equal(badExt.status, 1);
      assert.match(badExt.stderr, /the format comes from the extension, which must be \.csv or \.parquet/);
      const missing = await cli(['lake', 'import', file('nope.csv'), 'x']);
      assert.equal(missing.status, 1);
      assert.match(missing.stderr, /nope\.csv is not a file/);
      const badMode = await cli(['lake', 'import', file('iris.csv'), 'x', '--mode', 'upsert']);
      assert.equal(badMode.status, 1);
      assert.match(badMode.stderr, /--mode is fail, append or replace, not "upsert"/);
    });

    test('a bad filter is explained; an unknown table exits 1 with NOT_FOUND', async () => {
      const bad = await cli(['lake', 'head', 'iris', '--filter', "species = 'setosa' AND"]);
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /^forja: Bad filter at character \d+: expected a column name, found the end of the filter\..*\[INVALID_ARGUMENT, HTTP 400/m);
      const noColumn = await cli(['lake', 'export', 'iris', file('x.csv'), '--filter', 'colour = 1']);
      assert.equal(noColumn.status, 1);
      assert.match(noColumn.stderr, /No column "colour"/);
      assert.equal(existsSync(file('x.csv')), false, 'a failed export leaves no file');
      const badVersion = await cli(['lake', 'head', 'iris', '--version', 'newest']);
      assert.equal(badVersion.status, 1);
      assert.match(badVersion.stderr, /--version takes a VERSION number or "latest", not "newest"/);

      const commands = [
        ['head', 'nope'],
        ['describe', 'nope'],
        ['export', 'nope', file('nope.csv')],
        ['rename', 'nope', 'other'],
        ['rm', 'nope', '--yes'],
      ];
      const results = await Promise.all(commands.map((args) => cli(['lake', ...args])));
      results.forEach((r, i) => {
        assert.equal(r.status, 1, `lake ${commands[i]!.join(' ')}: ${r.stdout}`);
        assert.match(r.stderr, /Table 'nope' does not exist or you cannot see it\. \[NOT_FOUND, HTTP 404/, `lake ${commands[i]!.join(' ')}`);
      });
    });

    test('rename, and rm that needs --yes off a terminal', async () => {
      const renamed = await cli(['lake', 'rename', 'setosa', 'setosa_only']);
      assert.equal(renamed.status, 0, renamed.stderr);
      assert.equal(renamed.stdout, 'Table setosa renamed to setosa_only.\n');
      const refused = await cli(['lake', 'rm', 'setosa_only']);
      assert.equal(refused.status, 1);
      assert.match(refused.stderr, /Dropping setosa_only deletes its 2 rows: pass --yes to confirm\./);
      const dropped = await cli(['lake', 'rm', 'setosa_only', '--yes']);
      assert.equal(dropped.status, 0, dropped.stderr);
      assert.equal(dropped.stdout, 'Table setosa_only dropped.\n');
      const names = JSON.parse((await cli(['lake', 'ls', '--json'])).stdout).map((t: { name: string }) => t.name);
      assert.ok(!names.includes('setosa_only') && !names.includes('setosa'), names.join(' '));
    });

    test('predict: an unknown model, a bad model URI and a bad filter fail at once, before any job', async () => {
      const unknown = await cli(['lake', 'predict', 'iris', '--model', 'models:/no_such_model/Production', '--into', 'iris_scored', '--follow']);
      assert.equal(unknown.status, 1);
      assert.match(unknown.stderr, /no_such_model.*not found.*\[NOT_FOUND, HTTP 404/i);
      assert.doesNotMatch(unknown.stderr, /Batch prediction \w+:/);
      const badUri = await cli(['lake', 'predict', 'iris', '--model', 'no_such_model', '--into', 'iris_scored']);
      assert.equal(badUri.status, 1);
      assert.match(badUri.stderr, /a model is models:\/name\/Stage, models:\/name@alias or models:\/name\/<version>/);
      const badFilter = await cli(['lake', 'predict', 'iris', '--model', 'models:/no_such_model/1', '--into', 'out', '--filter', 'colour = 1']);
      assert.equal(badFilter.status, 1);
      assert.match(badFilter.stderr, /No column "colour"/);
      const noInto = await cli(['lake', 'predict', 'iris', '--model', 'models:/m/1']);
      assert.equal(noInto.status, 1);
      assert.match(noInto.stderr, /required option '--into <table>' not specified/);
      assert.deepEqual(
        JSON.parse((await cli(['lake', 'ls', '--json'])).stdout)
          .map((t: { name: string }) => t.name)
          .filter((n: string) => n.includes('scored')),
        [],
      );
    });
  });
}
