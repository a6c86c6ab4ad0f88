// Drift, side by side on one machine: Evidently's DataDriftPreset (installed by this bench from PyPI
// into its own virtual environment, cached by its requirements) against Forja's drift module
// (monitoring/stats, what POST /api/v1/drift and monitors run) on the same two Parquet files. Both
// compute PSI, KS and normed Wasserstein on every numeric column: Evidently as three presets
// (num_stattest psi, ks, wasserstein) in one Report, Forja as one report (wasserstein deciding, psi
// and ks also computed). Reports the time (reading the files included on both sides), each side's
// peak resident memory, and how far their numbers differ. BENCH_SIZE=full for the issue's
// 1,000,000 × 1,000,000 rows × 30 columns.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { ROOT, report, type Row } from './lib.js';

const FULL = process.env.BENCH_SIZE === 'full';
const ROWS = FULL ? 1_000_000 : 20_000;
const COLUMNS = FULL ? 30 : 5;
/** Evidently 0.7's legacy Report still needs pandas 2 (pandas 3 removed a helper it imports). */
const REQUIREMENTS = ['evidently==0.7.23', 'pandas==2.2.3', 'pyarrow>=15'];
const WORK = path.join(ROOT, '.test-work');

/** The bench's own Python environment, made once per requirements set with the test venv's uv when there is one. */
function evidentlyPython(): string {
  const digest = createHash('sha256').update(REQUIREMENTS.join('\n')).digest('hex').slice(0, 12);
  const venv = path.join(WORK, `drift-bench-venv-${digest}`);
  const python = path.join(venv, 'bin', 'python');
  const stamp = path.join(venv, '.ready');
  if (existsSync(stamp)) return python;
  const uv = path.join(path.dirname(process.env.FORJA_PYTHON ?? path.join(ROOT, '.venv/bin/python')), 'uv');
  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed with ${r.status ?? r.signal}`);
  };
  process.stdout.write(`installing ${REQUIREMENTS.join(', ')} into ${venv}…\n`);
  if (existsSync(uv)) {
    run(uv, ['venv', '-q', '--python', 'python3', venv]);
    run(uv, ['pip', 'install', '-q', '--python', python, ...REQUIREMENTS]);
  } else {
    run('python3', ['-m', 'venv', venv]);
    run(python, ['-m', 'pip', 'install', '-q', '--disable-pip-version-check', ...REQUIREMENTS]);
  }
  writeFileSync(stamp, REQUIREMENTS.join('\n'));
  return python;
}

/**
 * The two samples, made once per size with DuckDB (seeded): normal columns, every third one shifted
 * a little in the current sample and every fifth one scaled, so some drift and some do not.
 */
async function dataset(): Promise<{ reference: string; current: string }> {
  const dir = path.join(WORK, `drift-bench-data-${ROWS}x${COLUMNS}`);
  const reference = path.join(dir, 'reference.parquet');
  const current = path.join(dir, 'current.parquet');
  if (existsSync(path.join(dir, '.ready'))) return { reference, current };
  mkdirSync(dir, { recursive: true });
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  // Box–Muller from two uniforms; setseed makes random() repeatable within the connection.
  const normal = 'sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())';
  const columns = (current: boolean) =>
    Array.from({ length: COLUMNS }, (_, i) => {
      const shift = current && i % 3 === 0 ? 0.05 * (1 + (i % 4)) : 0;
      const scale = current && i % 5 === 0 ? 1.1 : 1;
      return `(${normal}) * ${scale * (1 + i)} + ${shift * (1 + i) + i} AS c${i}`;
    }).join(', ');
  await c.run('SELECT setseed(0.17)');
  await c.run(`COPY (SELECT ${columns(false)} FROM range(${ROWS})) TO '${reference}' (FORMAT parquet)`);
  await c.run(`COPY (SELECT ${columns(true)} FROM range(${ROWS})) TO '${current}' (FORMAT parquet)`);
  c.closeSync();
  db.closeSync();
  writeFileSync(path.join(dir, '.ready'), '');
  return { reference, current };
}

/** Evidently's side: three DataDriftPresets in one Report; prints seconds, peak RSS and each column's scores as JSON. */
const EVIDENTLY = `
import json, resource, sys, time, warnings
warnings.filterwarnings("ignore")
t0 = time.perf_counter()
import pandas as pd
from evidently.legacy.report import Report
from evidently.legacy.metric_preset import DataDriftPreset
imported = time.perf_counter() - t0
t = time.perf_counter(); cpu = time.process_time()
ref = pd.read_parquet(sys.argv[1]); cur = pd.read_parquet(sys.argv[2])
read = time.perf_counter() - t
methods = ["psi", "ks", "wasserstein"]
report = Report(metrics=[DataDriftPreset(num_stattest=m) for m in methods])
t = time.perf_counter()
report.run(reference_data=ref, current_data=cur)
result = report.as_dict()
run = time.perf_counter() - t
cpu = time.process_time() - cpu
tables = [m["result"] for m in result["metrics"] if "drift_by_columns" in m["result"]]
scores = {m: {c: float(v["drift_score"]) for c, v in table["drift_by_columns"].items()} for m, table in zip(methods, tables)}
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"read": read, "run": run, "cpu": cpu, "imported": imported, "peakMb": peak, "scores": scores}))
`;

/** Forja's side in its own process, so its peak memory is its own: the module the route and monitors call. */
const FORJA = `
import { computeDrift } from ${JSON.stringify(path.join(ROOT, 'server/src/monitoring/stats/index.ts'))};
const [reference, current, n] = process.argv.slice(1);
const columns = Array.from({ length: Number(n) }, (_, i) => ({ name: 'c' + i, type: 'DOUBLE' }));
const t = performance.now();
const cpu = process.cpuUsage();
const r = await computeDrift(reference, current, columns, { numericalMethod: 'wasserstein', alsoCompute: ['psi', 'ks'] });
const seconds = (performance.now() - t) / 1000;
const used = process.cpuUsage(cpu);
const scores = { psi: {}, ks: {}, wasserstein: {} };
for (const c of r.columns) for (const m of [c.result, ...c.others]) scores[m.method][c.column] = m.method === 'ks' ? m.pValue : m.statistic;
console.log(JSON.stringify({ seconds, cpu: (used.user + used.system) / 1e6, peakMb: process.resourceUsage().maxRSS / 1024, drifted: r.driftedColumns, scores }));
`;

function lastJson(cmd: string, args: string[]): any {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, cwd: ROOT });
  if (r.status !== 0) throw new Error(`${path.basename(cmd)} failed (${r.status ?? r.signal}): ${r.stderr.slice(-3000)}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

async function main(): Promise<void> {
  const python = evidentlyPython();
  const { reference, current } = await dataset();
  const evidently = lastJson(python, ['-c', EVIDENTLY, reference, current]);
  const forja = lastJson(process.execPath, ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', FORJA, reference, current, String(COLUMNS)]);
  const evidentlySeconds = evidently.read + evidently.run;
  // How far the two agree, method by method (KS as p-values, as Evidently reports it).
  const worst = ['psi', 'ks', 'wasserstein'].map((m) => {
    let gap = 0;
    for (const [col, v] of Object.entries(evidently.scores[m] as Record<string, number>))
      gap = Math.max(gap, Math.abs(v - forja.scores[m][col]) / Math.max(1, Math.abs(v)));
    return { m, gap };
  });
  const gaps = worst.map(({ m, gap }) => `${m} ${gap.toExponential(1)}`);
  const rows: Row[] = [
    { name: `PSI + KS + Wasserstein, ${COLUMNS} columns, files read`, unit: 's', anchor: evidentlySeconds, forja: forja.seconds, higherIsBetter: false },
    // On a shared machine CPU time is the steadier measure; DuckDB's threads count in Forja's.
    { name: 'CPU time (user + system)', unit: 's', anchor: evidently.cpu, forja: forja.cpu, higherIsBetter: false },
    { name: 'peak resident memory', unit: 'MiB', anchor: evidently.peakMb, forja: forja.peakMb, higherIsBetter: false },
  ];
  report(`Drift: ${ROWS.toLocaleString('en')} reference × ${ROWS.toLocaleString('en')} current rows × ${COLUMNS} numeric columns`, rows, 'Evidently');
  process.stdout.write(
    `Evidently 0.7.23: read ${evidently.read.toFixed(2)} s, Report.run ${evidently.run.toFixed(2)} s (imports ${evidently.imported.toFixed(1)} s not counted); ` +
      `largest relative difference of the scores: ${gaps.join(', ')}; Forja flagged ${forja.drifted} of ${COLUMNS} columns.\n`,
  );
  // The bench is also the known-answer check against Evidently itself (the test venv has no Evidently).
  const off = worst.filter(({ gap }) => !(gap <= 1e-6));
  if (off.length) throw new Error(`Forja's scores differ from Evidently's beyond 1e-6 (or are missing): ${off.map(({ m }) => m).join(', ')}`);
}

await main();
