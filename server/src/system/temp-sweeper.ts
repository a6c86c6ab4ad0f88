import { lstat, readdir, readlink, realpath, rm } from 'node:fs/promises';
import path from 'node:path';

/** A folder where requests and jobs stage files they delete when done. */
export interface ScratchArea {
  dir: string;
  /** Which entries are scratch; the rest (another program's files, resumable uploads) stay. */
  holds?: (name: string) => boolean;
}

export interface SweepLog {
  warn(message: string): void;
  error(message: string): void;
}

const HOUR = 3600_000;

/**
 * Removes what a crash leaves in scratch folders (a killed upload can leave hundreds of MB). An
 * entry goes once nothing in it has changed for `maxAgeMs` and this process has no file in it
 * open; a staging folder still being written to, or read by the server, stays. Runs at start and
 * then every `intervalMs` on a timer that does not keep the process alive.
 */
export class TempSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly areas: ScratchArea[],
    private readonly log: SweepLog,
    private readonly options: { maxAgeMs: number; intervalMs: number } = { maxAgeMs: HOUR, intervalMs: 10 * 60_000 },
  ) {}

  /** One pass over every area; returns the paths it removed. */
  async sweep(): Promise<string[]> {
    const removed: string[] = [];
    const open = await openFiles();
    const cutoff = Date.now() - this.options.maxAgeMs;
    for (const area of this.areas) {
      // Real paths, as the open files are listed by theirs.
      const dir = await realpath(area.dir).catch(() => undefined);
      if (!dir) continue;
      for (const name of await readdir(dir).catch(() => [] as string[])) {
        if (area.holds && !area.holds(name)) continue;
        const entry = path.join(dir, name);
        try {
          if ((await newestChange(entry)) > cutoff) continue;
          if ([...open].some((f) => f === entry || f.startsWith(entry + path.sep))) continue;
          await rm(entry, { recursive: true, force: true });
          removed.push(entry);
        } catch (err) {
          // Gone meanwhile (its request finished): nothing to do.
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log.error(`Could not remove the stale temporary ${entry}: ${(err as Error).message}`);
        }
      }
    }
    if (removed.length)
      this.log.warn(
        `Removed ${removed.length} stale temporary file(s) left by interrupted uploads or jobs: ${removed.slice(0, 5).join(', ')}${removed.length > 5 ? ', …' : ''}`,
      );
    return removed;
  }

  start(): void {
    this.timer ??= setInterval(() => {
      this.running ??= this.sweep()
        .catch((err) => this.log.error(`Sweeping temporary files failed: ${(err as Error).message}`))
        .finally(() => (this.running = undefined));
    }, this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}

/** The last time anything in a file or folder tree changed. */
async function newestChange(entry: string): Promise<number> {
  const info = await lstat(entry);
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const child of await readdir(entry)) newest = Math.max(newest, await newestChange(path.join(entry, child)).catch(() => 0));
  return newest;
}

/** Files this process has open (Linux); elsewhere the age rule alone decides. */
async function openFiles(): Promise<Set<string>> {
  const fds = await readdir('/proc/self/fd').catch(() => [] as string[]);
  const targets = await Promise.all(fds.map((fd) => readlink(path.join('/proc/self/fd', fd)).catch(() => '')));
  return new Set(targets.filter((t) => t.startsWith('/')));
}
