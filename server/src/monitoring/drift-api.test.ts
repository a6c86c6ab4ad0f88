import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../testing/databases.js';
import { parquetOf } from '../testing/parquet.js';
import { http, startTestServer, type TestServer } from '../testing/server.js';

for (const dialect of DIALECTS) {
  describe(`POST /api/v1/drift on ${dialect}`, () => {
    let s: TestServer;
    const call = (body: unknown, token?: string) => http(s.url, 'POST', '/api/v1/drift', { token: token ?? s.adminToken, body });
    const seed = async (name: string, csv: string) => {
      const res = await fetch(`${s.url}/api/v1/lake/tables/${name}/rows`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'text/csv' },
        body: csv,
      });
      assert.equal(res.status, 201, await res.text());
    };
    const upload = async (files: Record<string, [string, Uint8Array<ArrayBuffer> | string]>, options?: string) => {
      const form = new FormData();
      for (const [field, [name, bytes]] of Object.entries(files)) form.append(field, new Blob([bytes]), name);
      if (options !== undefined) form.append('options', options);
      const res = await fetch(`${s.url}/api/v1/drift`, { method: 'POST', headers: { authorization: `Bearer ${s.adminToken}` }, body: form });
      return { status: res.status, body: (await res.json()) as any };
    };

    before(async () => {
      s = await startTestServer({ dialect });
      const rows = (shift: number) => [
        'x,kind,period',
        ...Array.from({ length: 600 }, (_, i) => `${(i % 300) + shift},${i % 3 ? 'a' : 'b'},${i < 300 ? 1 : 2}`),
      ];
      await seed('train_rows', rows(0).join('\n'));
      await seed('live_rows', rows(150).join('\n'));
    });
    after(() => s.close());

    test('two lake tables: filters bound, Evidently defaults, every column judged', async () => {
      const res = await call({ reference: { table: 'train_rows', filter: 'period = 1' }, current: { table: 'live_rows', filter: 'period = 2' } });
      assert.equal(res.status, 200, res.text);
      const r = res.body;
      assert.deepEqual([r.referenceRows, r.currentRows], [300, 300]);
      const by = Object.fromEntries(r.columns.map((c: any) => [c.column, c]));
      // 300 distinct numbers, 300 reference rows: KS (exact), which sees the shift by half the range.
      assert.deepEqual([by.x.kind, by.x.result.method, by.x.result.pValueMethod, by.x.result.statistic, by.x.drifted], ['numerical', 'ks', 'exact', 0.5, true]);
      assert.ok(by.x.result.pValue < 1e-30);
      assert.deepEqual(by.x.range, { min: 0, max: 299, outsideShare: 0.5 });
      // Same shares of two kinds: the Z test, no drift; period is constant on each side and differs: chi² cannot, Z says drift.
      assert.deepEqual([by.kind.result.method, by.kind.result.pValue, by.kind.drifted], ['z', 1, false]);
      assert.equal(by.period.drifted, true);
      assert.equal(r.datasetDrift, true);
      assert.equal(r.driftedColumns, 2);
    });

    test('two lake tables, bad input: zero reference rows, a column on one side only, a table that does not exist, anonymous', async () => {
      const empty = await call({ reference: { table: 'train_rows', filter: 'period = 7' }, current: { table: 'live_rows' } });
      assert.equal(empty.status, 400);
      assert.match(empty.body.error.message, /reference \(train_rows where period = 7\) has no rows/);
      const absent = await call({ reference: { table: 'train_rows' }, current: { table: 'live_rows' }, options: { columns: ['x', 'ghost'] } });
      assert.equal(absent.status, 400);
      assert.match(absent.body.error.message, /Columns not in both train_rows and live_rows: ghost/);
      assert.equal((await call({ reference: { table: 'nope' }, current: { table: 'live_rows' } })).status, 404);
      const badOption = await call({ reference: { table: 'train_rows' }, current: { table: 'live_rows' }, options: { driftShare: 3 } });
      assert.equal(badOption.status, 400);
      assert.match(badOption.body.error.message, /options\.driftShare/);
      assert.equal((await http(s.url, 'POST', '/api/v1/drift', { body: { reference: { table: 'train_rows' }, current: { table: 'live_rows' } } })).status, 401);
    });

    test('two uploaded files (Parquet and CSV) with options; bad files and options are 400s naming them', async () => {
      const ref = await parquetOf(`SELECT range::DOUBLE AS score, CASE WHEN range % 2 = 0 THEN 'x' ELSE 'y' END AS tag FROM range(2000)`);
      const csv = ['score,tag', ...Array.from({ length: 1500 }, (_, i) => `${i * 1.5},${i % 5 ? 'x' : 'z'}`)].join('\n');
      const ok = await upload(
        { reference: ['ref.parquet', ref], current: ['live data.csv', csv] },
        JSON.stringify({ alsoCompute: ['psi'], perColumn: { tag: { threshold: 0.2 } } }),
      );
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      const by = Object.fromEntries(ok.body.columns.map((c: any) => [c.column, c]));
      assert.deepEqual([by.score.result.method, by.score.others[0].method, by.score.others[0].binning], ['wasserstein', 'psi', 'evidently-sturges']);
      assert.deepEqual([by.tag.result.method, by.tag.result.threshold], ['jensenshannon', 0.2]);
      assert.deepEqual(by.tag.unseen, { share: 0.2, examples: ['z'] });
      assert.equal(by.score.distribution.edges.length, by.score.distribution.reference.length + 1);

      const cases: [Record<string, [string, Uint8Array<ArrayBuffer> | string]>, string | undefined, RegExp][] = [
        [{ reference: ['ref.parquet', ref] }, undefined, /Send the current file as the form field "current"/],
        [{ reference: ['ref.parquet', ref], current: ['c.csv', csv] }, '{not json', /options field is not JSON/],
        [
          { reference: ['ref.parquet', ref], current: ['c.csv', csv] },
          '{"columns": ["score", "ghost"]}',
          /not in both the reference and the current file: ghost/,
        ],
        [{ reference: ['ref.parquet', 'not a parquet file'], current: ['c.csv', csv] }, undefined, /reference file could not be read as Parquet/],
        [{ reference: ['ref.csv', 'score,tag\n'], current: ['c.csv', csv] }, undefined, /reference has no rows/],
      ];
      for (const [files, options, message] of cases) {
        const res = await upload(files, options);
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.match(res.body.error.message, message);
      }
    });
  });
}
