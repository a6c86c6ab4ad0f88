import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DIALECTS } from '../testing/databases.js';
import { startTestServer, type TestServer } from '../testing/server.js';
import type { Services } from '../services.js';
import { TempSweeper } from './temp-sweeper.js';

const TWO_HOURS_AGO = new Date(Date.now() - 2 * 3600_000);

/** A file (with its folders), its mtime set back when `old`. */
function put(file: string, old: boolean): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, 'x'.repeat(1024));
  if (old) utimesSync(file, TWO_HOURS_AGO, TWO_HOURS_AGO);
  return file;
}
const age = (entry: string) => utimesSync(entry, TWO_HOURS_AGO, TWO_HOURS_AGO);

for (const dialect of DIALECTS) {
  describe(`stale temporary files on ${dialect}`, () => {
    let s: TestServer;
    const gone: string[] = [];
    const kept: string[] = [];
    let held: number | undefined;

    /** What crashes leave behind, and what must survive, put in place before the server starts. */
    function stage(services: Services): void {
      const lakeTmp = services.lake.tempDir;
      const uploads = services.artifacts.store.tmpDir;
      const models = path.join(path.dirname(lakeTmp), 'models');
      gone.push(put(path.join(lakeTmp, 'crashed-upload.parquet'), true));
      gone.push(put(path.join(uploads, '1700000000000-abc123'), true));
      const predict = path.join(lakeTmp, 'predict-crashed');
      put(path.join(predict, 'input.parquet'), true);
      age(predict);
      gone.push(predict);
      const staging = path.join(services.deployments.root, '.staging', 'crashed');
      put(path.join(staging, 'files', 'model.pkl'), true);
      age(path.join(staging, 'files'));
      age(staging);
      gone.push(staging);
      const halfCopied = path.join(models, 'churn-v1-abc.tmp-xyz');
      put(path.join(halfCopied, 'model.pkl'), true);
      age(halfCopied);
      gone.push(halfCopied);

      kept.push(put(path.join(lakeTmp, 'fresh-upload.csv'), false));
      kept.push(put(path.join(lakeTmp, 'duckdb_temp_storage-0.tmp'), true));
      kept.push(put(path.join(uploads, 'chunked', 'resumable.part'), true));
      const staged = path.join(models, 'churn-v1-abc');
      kept.push(put(path.join(staged, 'model.pkl'), true));
      age(staged);
      // An old folder with a file still being written in it.
      const busy = path.join(services.batch.root, '.staging', 'busy');
      put(path.join(busy, 'old.py'), true);
      kept.push(put(path.join(busy, 'new.py'), false));
      age(busy);
      // An old file this process has open.
      const open = put(path.join(lakeTmp, 'being-read.parquet'), true);
      held = openSync(open, 'r');
      kept.push(open);
    }

    before(async () => {
      s = await startTestServer({ dialect, beforeStart: stage });
    });
    after(async () => {
      if (held !== undefined) closeSync(held);
      await s.close();
    });

    test('the server removes what crashes left an hour ago or more when it starts, and leaves what is fresh or in use', () => {
      for (const entry of gone) assert.equal(existsSync(entry), false, `${entry} is removed`);
      for (const entry of kept) assert.equal(existsSync(entry), true, `${entry} stays`);
    });
  });
}

describe('the sweeper on its timer', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'forja-sweep-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('runs again every interval until stopped, and logs what it removed', async () => {
    const warnings: string[] = [];
    const sweeper = new TempSweeper([{ dir }], { warn: (m) => warnings.push(m), error: (m) => assert.fail(m) }, { maxAgeMs: 3600_000, intervalMs: 20 });
    sweeper.start();
    const stale = put(path.join(dir, 'later.bin'), true);
    const fresh = put(path.join(dir, 'fresh.bin'), false);
    for (let i = 0; i < 100 && existsSync(stale); i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(existsSync(stale), false, 'a stale file that appears later goes on a later pass');
    assert.equal(existsSync(fresh), true);
    assert.match(warnings.join('\n'), /Removed 1 stale temporary file\(s\) left by interrupted uploads or jobs: .*later\.bin/);
    await sweeper.stop();
    const afterStop = put(path.join(dir, 'after-stop.bin'), true);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(existsSync(afterStop), true, 'nothing runs once stopped');
  });
});
