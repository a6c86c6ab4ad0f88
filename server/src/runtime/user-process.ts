import { spawn, type ChildProcess, type ChildProcessByStdio, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { Launch } from './sandbox.js';

/** What a process of user code may use, one-shot or pooled; unset means unlimited. */
export interface Limits {
  /** Address space (RLIMIT_AS) of each of its processes: Python raises MemoryError past it. */
  memoryMb?: number;
  /** CPU time of each process: SIGXCPU at the limit, SIGKILL five seconds of CPU later. */
  cpuSeconds?: number;
  /** Open files of each process (RLIMIT_NOFILE). */
  maxFiles?: number;
}

/**
 * Every process of user code starts under this small sh: it sets the limits for everything it
 * starts, then runs the (sandboxed) command in the foreground, so a pooled worker keeps its stdin.
 * A watchdog beside it kills the whole process group within a second of the server dying (even by
 * kill -9): a job never outlives the worker that claimed it and runs twice once another retries it,
 * and no model worker is left behind. A failing ulimit leaves a lower limit in place, never a higher.
 */
const SUPERVISOR = [
  'parent=$1; memory=$2; cpu=$3; files=$4; shift 4',
  // The watchdog starts before the limits: a CPU limit would end it after some hours of polling.
  '( while kill -0 "$parent" 2>/dev/null; do sleep 1; done; kill -KILL 0 ) </dev/null >/dev/null 2>&1 &',
  'watch=$!',
  'if [ -n "$memory" ]; then ulimit -v "$memory"; fi',
  'if [ -n "$cpu" ]; then ulimit -S -t "$cpu"; ulimit -H -t $((cpu + 5)); fi',
  'if [ -n "$files" ]; then ulimit -n "$files"; fi',
  '"$@"; code=$?',
  'kill "$watch" 2>/dev/null',
  'exit $code',
].join('\n');

/**
 * The one way user code is spawned: the sandbox's launch under the supervisor with the limits, in a
 * process group of its own. The environment is the launch's alone (the sandbox's policy): nothing of
 * the supervisor's reaches the code. Whatever the main process leaves behind dies with it.
 */
export function spawnUserProcess(launch: Launch, limits: Limits, stdin: 'pipe'): ChildProcessWithoutNullStreams;
export function spawnUserProcess(launch: Launch, limits: Limits, stdin: 'ignore'): ChildProcessByStdio<null, Readable, Readable>;
export function spawnUserProcess(launch: Launch, limits: Limits, stdin: 'ignore' | 'pipe'): ChildProcess {
  const limit = (value: number | undefined, scale = 1) => (value ? String(value * scale) : '');
  const child = spawn(
    '/bin/sh',
    [
      '-c',
      SUPERVISOR,
      'forja-job',
      String(process.pid),
      limit(limits.memoryMb, 1024),
      limit(limits.cpuSeconds),
      limit(limits.maxFiles),
      launch.command,
      ...launch.args,
    ],
    {
      cwd: launch.cwd,
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', ...launch.env },
      detached: true,
      stdio: [stdin, 'pipe', 'pipe'],
    },
  );
  // Once its output is closed (a SIGTERM's grace is over), whatever the main process left in its group goes with it.
  child.on('close', () => killGroup(child, 'SIGKILL'));
  return child;
}

/** Signals every process of the child's group (the supervisor, the sandbox, the code and its children). */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}
