import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { AppError } from '../../errors.js';
import { automaticMethod, computeDrift } from './index.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'forja-drift-'));
});
after(() => rm(dir, { recursive: true, force: true }));

async function parquet(name: string, select: string): Promise<string> {
  const file = path.join(dir, `${name}.parquet`);
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  await c.run(`COPY (${select}) TO '${file}' (FORMAT parquet)`);
  c.closeSync();
  db.closeSync();
  return file;
}

const X = { name: 'x', type: 'BIGINT' };
const KIND = { name: 'kind', type: 'VARCHAR' };
const DECILES = { binning: 'quantile', bins: 10, epsilon: 1e-4 } as const;

async function rejects400(p: Promise<unknown>, message: RegExp) {
  await assert.rejects(p, (err: unknown) => err instanceof AppError && err.status === 400 && message.test(err.message));
}

test('PSI over reference deciles with ε 1e-4 (the pipeline action): zero for the same sample, by hand for a shifted one and for categories', async () => {
  const ref = await parquet('ref', `SELECT range AS x, CASE WHEN range % 2 = 0 THEN 'a' ELSE 'b' END AS kind FROM range(1000)`);
  const moved = await parquet('moved', `SELECT range + 500 AS x, CASE WHEN range % 4 = 0 THEN 'b' ELSE 'a' END AS kind FROM range(1000)`);
  const options = { numericalMethod: 'psi', categoricalMethod: 'psi', psi: DECILES } as const;
  const flat = await computeDrift(ref, ref, [X, KIND], options);
  assert.deepEqual(
    flat.columns.map((c) => [c.column, Math.abs(c.result.statistic!) < 1e-12, c.result.binning, c.result.bins]),
    [
      ['x', true, 'quantile', 10],
      ['kind', true, 'evidently-values', 2],
    ],
  );
  const [x, kind] = (await computeDrift(ref, moved, [X, KIND], options)).columns;
  // Reference deciles: 10% a bin. The moved sample leaves bins 0–4 empty (ε), keeps 10% in 5–8 and puts 60% in the last.
  const expected = 5 * (0.1 - 1e-4) * Math.log(0.1 / 1e-4) + (0.1 - 0.6) * Math.log(0.1 / 0.6);
  assert.ok(Math.abs(x!.result.statistic! - expected) < 1e-9, `${x!.result.statistic} vs ${expected}`);
  assert.equal(x!.result.epsilon, 1e-4);
  const expectedKind = (0.5 - 0.75) * Math.log(0.5 / 0.75) + (0.5 - 0.25) * Math.log(0.5 / 0.25);
  assert.ok(Math.abs(kind!.result.statistic! - expectedKind) < 1e-9);
  assert.deepEqual(x!.range, { min: 0, max: 999, outsideShare: 0.5 });
});

test("PSI with Evidently's default binning: Sturges bins over both samples, empty bins at 1e-4 or the smallest share ÷ 10⁶", async () => {
  const ref = await parquet('ev_ref', 'SELECT range::DOUBLE AS x FROM range(1000)');
  const cur = await parquet('ev_cur', 'SELECT (range + 500)::DOUBLE AS x FROM range(1000)');
  const [x] = (await computeDrift(ref, cur, [{ name: 'x', type: 'DOUBLE' }], { numericalMethod: 'psi' })).columns;
  // 2000 values: ceil(log2(2000) + 1) = 12 equal bins over 0..1499; each side's smallest share is > 1e-4, so ε = 1e-4.
  assert.equal(x!.result.bins, 12);
  assert.equal(x!.result.binning, 'evidently-sturges');
  assert.equal(x!.result.epsilon, 1e-4);
  const edges = x!.distribution!.edges!;
  const count = (lo: number, hi: number, last: boolean, from: number) => {
    let n = 0;
    for (let v = from; v < from + 1000; v++) if (v >= lo && (last ? v <= hi : v < hi)) n++;
    return n / 1000;
  };
  let psi = 0;
  for (let i = 0; i < 12; i++) {
    const r = count(edges[i]!, edges[i + 1]!, i === 11, 0) || 1e-4;
    const c = count(edges[i]!, edges[i + 1]!, i === 11, 500) || 1e-4;
    psi += (r - c) * Math.log(r / c);
  }
  assert.ok(Math.abs(x!.result.statistic! - psi) < 1e-9, `${x!.result.statistic} vs ${psi}`);
  assert.equal(x!.drifted, true);
});

test("Evidently's automatic choice from the reference size and the distinct values", () => {
  assert.equal(automaticMethod('numerical', 1000, 6), 'ks');
  assert.equal(automaticMethod('numerical', 1001, 6), 'wasserstein');
  assert.equal(automaticMethod('numerical', 500, 5), 'chisquare');
  assert.equal(automaticMethod('numerical', 500, 2), 'z');
  assert.equal(automaticMethod('categorical', 500, 3), 'chisquare');
  assert.equal(automaticMethod('categorical', 500, 2), 'z');
  assert.equal(automaticMethod('categorical', 5000, 40), 'jensenshannon');
  assert.equal(automaticMethod('numerical', 5000, 3), 'jensenshannon');
});

test('bad input: no reference rows, columns on one side only, a test that needs numbers on a category, bad options', async () => {
  const none = await parquet('none', 'SELECT range AS x FROM range(0)');
  const some = await parquet('some', `SELECT range AS x, 'a' AS kind FROM range(10)`);
  await rejects400(computeDrift(none, some, [X], {}), /reference has no rows/);
  await rejects400(computeDrift(some, none, [X], {}), /current data has no rows/);
  await rejects400(computeDrift(some, some, [X], { columns: ['x', 'ghost', 'phantom'] }), /not in both.*ghost, phantom/);
  await rejects400(computeDrift(some, some, [X, KIND], { perColumn: { kind: { method: 'ks' } } }), /ks needs numbers, and column kind is categorical/);
  await rejects400(computeDrift(some, some, [X], { psi: { bins: 1 } } as never), /Bad drift options: psi\.bins/);
});

test('all-null and constant columns, NaN and ±Inf, categories unseen in the reference', async () => {
  const ref = await parquet(
    'odd_ref',
    `SELECT NULL::DOUBLE AS empty, 7 AS flat, CASE WHEN range % 10 = 0 THEN 'nan'::DOUBLE WHEN range % 10 = 1 THEN 'inf'::DOUBLE ELSE range END AS noisy,
            CASE WHEN range % 2 = 0 THEN 'a' ELSE 'b' END AS kind FROM range(200)`,
  );
  const cur = await parquet(
    'odd_cur',
    `SELECT range::DOUBLE AS empty, 7 AS flat, CASE WHEN range % 4 = 0 THEN '-inf'::DOUBLE ELSE range END AS noisy,
            CASE WHEN range % 4 = 0 THEN 'zeta' WHEN range % 4 = 1 THEN 'omega' ELSE 'a' END AS kind FROM range(100)`,
  );
  const cols = [{ name: 'empty', type: 'DOUBLE' }, { name: 'flat', type: 'INTEGER' }, { name: 'noisy', type: 'DOUBLE' }, KIND];
  const report = await computeDrift(ref, cur, cols, { alsoCompute: ['psi'] });
  const by = Object.fromEntries(report.columns.map((c) => [c.column, c]));
  assert.match(by.empty!.note!, /Every value of empty in the reference is missing/);
  assert.deepEqual([by.empty!.result.statistic, by.empty!.drifted, by.empty!.missing], [null, false, { reference: 200, current: 0 }]);
  // Constant on both sides: the Z test's p is 1 (Evidently), the note says so.
  assert.match(by.flat!.note!, /Constant on both sides \(every value is 7\)/);
  assert.deepEqual([by.flat!.result.method, by.flat!.result.pValue, by.flat!.drifted], ['z', 1, false]);
  // NaN counts as missing, ±Inf as infinite; neither reaches a test.
  assert.deepEqual(by.noisy!.missing, { reference: 20, current: 0 });
  assert.deepEqual(by.noisy!.infinite, { reference: 20, current: 25 });
  assert.deepEqual(by.noisy!.missingShare, { reference: 0.1, current: 0 });
  assert.equal(by.noisy!.result.method, 'ks');
  assert.ok(Number.isFinite(by.noisy!.result.statistic!) && Number.isFinite(by.noisy!.result.pValue!));
  // Unseen categories: counted, named, and χ² (infinite) flags drift without a NaN.
  assert.deepEqual(by.kind!.unseen, { share: 0.5, examples: ['omega', 'zeta'] });
  assert.deepEqual([by.kind!.result.method, by.kind!.result.statistic, by.kind!.result.pValue, by.kind!.drifted], ['chisquare', null, 0, true]);
  assert.match(by.kind!.note!, /values the reference never had/);
  assert.equal(by.kind!.others[0]!.method, 'psi');
  assert.deepEqual(by.kind!.distribution!.categories, ['a', 'b', 'omega', 'zeta']);
  assert.equal(JSON.stringify(report).includes('NaN'), false);
  assert.deepEqual(
    [report.driftedColumns, report.driftShare, report.datasetDrift],
    [by.noisy!.drifted ? 2 : 1, (by.noisy!.drifted ? 2 : 1) / 4, by.noisy!.drifted],
  );
});

test('per-column overrides and one method per kind; thresholds decide', async () => {
  const ref = await parquet('ov_ref', 'SELECT range::DOUBLE AS a, (range % 7)::DOUBLE AS b FROM range(3000)');
  const cur = await parquet('ov_cur', 'SELECT (range * 1.02)::DOUBLE AS a, (range % 7)::DOUBLE AS b FROM range(3000)');
  const cols = [
    { name: 'a', type: 'DOUBLE' },
    { name: 'b', type: 'DOUBLE' },
  ];
  const report = await computeDrift(ref, cur, cols, {
    numericalMethod: 'wasserstein',
    perColumn: { a: { method: 'ks', threshold: 0.5 }, b: { kind: 'categorical', method: 'chisquare' } },
    driftShare: 0.5,
  });
  const [a, b] = report.columns;
  assert.deepEqual([a!.result.method, a!.result.threshold, a!.result.pValueMethod], ['ks', 0.5, 'exact']);
  assert.equal(a!.drifted, a!.result.pValue! <= 0.5);
  assert.deepEqual([b!.kind, b!.result.method, b!.result.statistic, b!.result.pValue, b!.drifted], ['categorical', 'chisquare', 0, 1, false]);
});
