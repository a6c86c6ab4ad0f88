// The one-way rules of docs/architecture.md, checked on the source so they cannot erode quietly:
// SQL lives in stores, a store touches only its own domain's tables, the job engine's store stays
// inside jobs/, routes get narrow dependencies, UI components never import pages.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(SRC, '..', '..');

function sources(dir: string, ext: RegExp): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules' && e.name !== 'dist') out.push(...sources(full, ext));
    } else if (ext.test(e.name) && !e.name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

const serverFiles = sources(SRC, /\.ts$/).filter((f) => !f.includes(`${path.sep}testing${path.sep}`));
const rel = (f: string) => path.relative(SRC, f).split(path.sep).join('/');
const domainOf = (f: string) => rel(f).split('/')[0]!;
/** The storage layer: stores, the database module, and SQL compilers such as tracking/sql-filter.ts. */
const isStore = (f: string) => /(^|[-/])store\.ts$/.test(rel(f)) || /(^|\/)sql-[\w-]+\.ts$/.test(rel(f)) || rel(f).startsWith('db/');

/** Which domain folder owns each table (a new table must be given an owner here). */
const OWNER: Record<string, string> = {
  users: 'auth',
  groups: 'auth',
  memberships: 'auth',
  tokens: 'auth',
  audit_log: 'auth',
  counters: 'tracking',
  experiments: 'tracking',
  experiment_tags: 'tracking',
  runs: 'tracking',
  params: 'tracking',
  run_tags: 'tracking',
  metrics: 'tracking',
  latest_metrics: 'tracking',
  datasets: 'tracking',
  run_inputs: 'tracking',
  logged_models: 'tracking',
  logged_model_tags: 'tracking',
  logged_model_params: 'tracking',
  run_outputs: 'tracking',
  run_model_inputs: 'tracking',
  logged_model_metrics: 'tracking',
  registered_models: 'registry',
  registered_model_tags: 'registry',
  model_versions: 'registry',
  model_version_tags: 'registry',
  model_aliases: 'registry',
  group_settings: 'registry',
  approval_requests: 'registry',
  webhooks: 'webhooks',
  webhook_deliveries: 'webhooks',
  deployments: 'deployments',
  executions: 'deployments',
  deployment_usage: 'deployments',
  cluster_profiles: 'batch',
  batch_projects: 'batch',
  batch_deploys: 'batch',
  batch_runs: 'batch',
  schedules: 'batch',
  pipelines: 'pipelines',
  pipeline_runs: 'pipelines',
  pipeline_steps: 'pipelines',
  monitors: 'monitoring',
  monitor_runs: 'monitoring',
  training_runs: 'training',
  jobs: 'jobs',
  job_logs: 'jobs',
  workers: 'jobs',
  sandbox_users: 'runtime',
  alert_rules: 'alerts',
  alert_streaks: 'alerts',
  alerts: 'alerts',
};

const QUERY = /\.(selectFrom|insertInto|updateTable|deleteFrom|replaceInto|mergeInto)\(\s*['"`]([a-z_]+)/g;

describe('architecture rules', () => {
  it('every table in the schema has an owning domain', () => {
    const schema = readFileSync(path.join(SRC, 'db', 'schema.ts'), 'utf8');
    const body = schema.slice(schema.indexOf('export interface Database'));
    const tables = [...body.slice(0, body.indexOf('\n}')).matchAll(/^ {2}(\w+):/gm)].map((m) => m[1]!);
    assert.ok(tables.length > 30, 'the Database interface was not found in db/schema.ts');
    assert.deepEqual(
      tables.filter((t) => !OWNER[t]),
      [],
    );
  });

  it('only stores build SQL, and a store reads only its own domain’s tables', () => {
    const outside: string[] = [];
    const foreign: string[] = [];
    for (const f of serverFiles) {
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(QUERY)) {
        const where = `${rel(f)}: ${m[1]}('${m[2]}')`;
        if (!isStore(f)) outside.push(where);
        else if (!rel(f).startsWith('db/') && OWNER[m[2]!] !== domainOf(f)) foreign.push(`${where} (owned by ${OWNER[m[2]!] ?? 'nobody'})`);
      }
    }
    assert.deepEqual(outside, [], 'query building outside a store');
    assert.deepEqual(foreign, [], "a store reaching into another domain's tables");
  });

  it('services do not branch on the SQL dialect', () => {
    const found = serverFiles.filter(
      (f) => !isStore(f) && !['jobs/create-engine.ts', 'services.ts'].includes(rel(f)) && /\bdialect\s*===/.test(readFileSync(f, 'utf8')),
    );
    assert.deepEqual(found.map(rel), []);
  });

  it("the job engine's store is private to jobs/", () => {
    const found = serverFiles.filter((f) => domainOf(f) !== 'jobs' && /\bengine\.store\b|\.engine\.store\b/.test(readFileSync(f, 'utf8')));
    assert.deepEqual(found.map(rel), []);
  });

  it('routes receive narrow dependencies, not the whole composition root', () => {
    const found = serverFiles.filter((f) => /routes\.ts$/.test(f) && /import[^;]*\bServices\b[^;]*from '[^']*services\.js'/.test(readFileSync(f, 'utf8')));
    assert.deepEqual(found.map(rel), []);
  });

  it('web components never import pages', () => {
    const dir = path.join(ROOT, 'web', 'src', 'components');
    const found = sources(dir, /\.tsx?$/).filter((f) => /from '\.\.\/pages\//.test(readFileSync(f, 'utf8')));
    assert.deepEqual(
      found.map((f) => path.relative(ROOT, f)),
      [],
    );
  });
});
