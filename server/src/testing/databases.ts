import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Dialect } from '../db/database.js';

export const DIALECTS: Dialect[] = ['sqlite', 'postgres'];

export interface TestDatabase {
  dialect: Dialect;
  url: string;
  /** A temporary directory that is removed with the database. */
  dir: string;
  drop(): Promise<void>;
}

/**
 * A fresh, empty database of the given dialect. PostgreSQL comes from the cluster `npm test`
 * starts (FORJA_TEST_PG_URL); without it the test fails loudly rather than skipping.
 */
export async function createTestDatabase(dialect: Dialect): Promise<TestDatabase> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'forja-test-'));
  if (dialect === 'sqlite') {
    return { dialect, url: `sqlite:${path.join(dir, 'forja.db')}`, dir, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const admin = process.env.FORJA_TEST_PG_URL;
  if (!admin) throw new Error('FORJA_TEST_PG_URL is not set: run the tests with `npm test`, which starts a PostgreSQL cluster.');
  const name = `forja_test_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    dialect,
    url: url.toString(),
    dir,
    drop: async () => {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
