import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runProcess } from '../runtime/process.js';
import type { Sandbox } from '../runtime/sandbox.js';
import { probeSource, reportIn, type Attempt, type Targets } from './malicious.js';

export interface ProbeResult {
  report: Record<string, Attempt> | undefined;
  /** The user id the code ran as, as it saw it. */
  uid: number;
  log: string[];
}

/** Runs the malicious probe as a one-shot job of `groupId` in `sandbox`, with `work` as its folder. */
export async function runProbe(sandbox: Sandbox, python: string, targets: Targets, groupId: string, work: string): Promise<ProbeResult> {
  mkdirSync(work, { recursive: true });
  const script = path.join(work, 'probe.py');
  writeFileSync(script, `${probeSource(targets)}\nprint("FORJA-UID", os.getuid())\nprint_report(${JSON.stringify(groupId)})\n`);
  const log: string[] = [];
  await runProcess(
    { signal: new AbortController().signal, log: (l) => log.push(l) },
    { sandbox, run: { groupId, argv: [python, script], cwd: work, python, env: {}, writable: [work] } },
  );
  const uidLine = log.find((l) => l.startsWith('FORJA-UID '));
  return { report: reportIn(log), uid: Number(uidLine?.slice('FORJA-UID '.length)), log };
}
