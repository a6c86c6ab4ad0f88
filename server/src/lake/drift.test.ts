import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { populationStability } from './drift.js';

async function parquet(dir: string, name: string, select: string): Promise<string> {
  const file = path.join(dir, `${name}.parquet`);
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  await c.run(`COPY (${select}) TO '${file}' (FORMAT parquet)`);
  c.closeSync();
  db.closeSync();
  return file;
}

test('PSI: zero for the same sample; by hand for a shifted one and for categories', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'forja-psi-'));
  try {
    const ref = await parquet(dir, 'ref', `SELECT range AS x, CASE WHEN range % 2 = 0 THEN 'a' ELSE 'b' END AS kind FROM range(1000)`);
    const same = await parquet(dir, 'same', `SELECT range AS x, CASE WHEN range % 2 = 0 THEN 'a' ELSE 'b' END AS kind FROM range(1000)`);
    // Shifted by half the range; kinds now 3 a to 1 b.
    const moved = await parquet(dir, 'moved', `SELECT range + 500 AS x, CASE WHEN range % 4 = 0 THEN 'b' ELSE 'a' END AS kind FROM range(1000)`);
    const columns = [
      { name: 'x', type: 'BIGINT' },
      { name: 'kind', type: 'VARCHAR' },
    ];
    const flat = await populationStability(ref, same, columns);
    assert.deepEqual(
      flat.map((c) => [c.column, Math.abs(c.psi) < 1e-12, c.binning, c.bins]),
      [
        ['x', true, 'deciles', 10],
        ['kind', true, 'categories', 2],
      ],
    );
    const [x, kind] = await populationStability(ref, moved, columns);
    // Reference deciles: 10% a bin. The moved sample leaves bins 0–4 empty (ε), keeps 10% in 5–8 and puts 60% in the last.
    const expected = 5 * (0.1 - 1e-4) * Math.log(0.1 / 1e-4) + (0.1 - 0.6) * Math.log(0.1 / 0.6);
    assert.ok(Math.abs(x!.psi - expected) < 1e-9, `${x!.psi} vs ${expected}`);
    const expectedKind = (0.5 - 0.75) * Math.log(0.5 / 0.75) + (0.5 - 0.25) * Math.log(0.5 / 0.25);
    assert.ok(Math.abs(kind!.psi - expectedKind) < 1e-9, `${kind!.psi} vs ${expectedKind}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
