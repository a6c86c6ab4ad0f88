// What the sandbox adds to a one-shot job's start-up (an execution, a batch run, a pipeline step, a
// build): the same runner starting the same process with FORJA_SANDBOX=off (the anchor) and in
// bubblewrap, alternately, on one machine. Pooled deployment workers pay this once per worker; their
// predict path is compared in bench/deployments.ts. BENCH_SIZE=full for more rounds.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runProcess } from '../server/src/runtime/process.js';
import { Sandbox } from '../server/src/runtime/sandbox.js';
import { ROOT, report, type Row } from './lib.js';

const FULL = process.env.BENCH_SIZE === 'full';
const ROUNDS = FULL ? 200 : 20;
const PYTHON = process.env.FORJA_PYTHON ?? path.join(ROOT, '.venv/bin/python');
const users = { uidOf: async () => 961_000 };

const sandboxed = Sandbox.detect('auto', users, 961_001);
if (sandboxed.status.mode !== 'bwrap') throw new Error(`the sandbox is not available here: ${sandboxed.status.reason}`);
const bare = Sandbox.detect('off', users, 961_001);

async function time(sandbox: Sandbox, argv: string[], work: string): Promise<number> {
  const t = performance.now();
  await runProcess(
    { signal: new AbortController().signal, log: () => undefined },
    { sandbox, run: { groupId: 'bench', argv, cwd: work, python: argv[0] === PYTHON ? PYTHON : undefined, env: {}, writable: [work] } },
  );
  return performance.now() - t;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)]!;

async function main() {
  const work = mkdtempSync(path.join(os.tmpdir(), 'forja-sandbox-bench-'));
  try {
    const rows: Row[] = [];
    for (const [name, argv] of [
      ['/bin/true', ['/bin/true']],
      ['python -c pass', [PYTHON, '-c', 'pass']],
    ] as const) {
      const off: number[] = [];
      const on: number[] = [];
      for (let i = 0; i < 3; i++) {
        await time(bare, [...argv], work);
        await time(sandboxed, [...argv], work);
      }
      // Alternating rounds, so load on the machine falls on both sides alike.
      for (let i = 0; i < ROUNDS; i++) {
        off.push(await time(bare, [...argv], work));
        on.push(await time(sandboxed, [...argv], work));
      }
      rows.push(
        { name: `${name}: start to exit, median`, unit: 'ms', anchor: median(off), forja: median(on), higherIsBetter: false },
        { name: `${name}: start to exit, p90`, unit: 'ms', anchor: p90(off), forja: p90(on), higherIsBetter: false },
        { name: `${name}: added by the sandbox, median`, unit: 'ms', anchor: null, forja: median(on) - median(off), higherIsBetter: false },
      );
    }
    report(
      `Sandbox start-up of a one-shot job: ${ROUNDS} runs each (${sandboxed.status.perGroupUsers ? 'root server: per-group user via setpriv' : 'user namespaces'})`,
      rows,
      'no sandbox',
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
