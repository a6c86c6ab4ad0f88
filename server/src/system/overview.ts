import { lstat, readdir, statfs } from 'node:fs/promises';
import path from 'node:path';
import type { DirectorySize, SystemOverview } from '@forja/contracts';
import type { Db } from '../db/database.js';
import type { JobsService } from '../jobs/service.js';
import type { LakeService } from '../lake/service.js';
import type { Sandbox } from '../runtime/sandbox.js';

/** A walk of the artifact store stops after this long: the page answers fast, with a lower bound, on a huge store. */
const WALK_BUDGET_MS = 2000;
/** Entries of one folder measured at once. */
const STAT_BATCH = 64;

export interface SystemOverviewOptions {
  version: string;
  db: Db;
  lake: Pick<LakeService, 'storage'>;
  jobs: Pick<JobsService, 'depth' | 'workers'>;
  sandbox: Sandbox;
  dataDir: string;
  artifactsDir: string;
  clock?: () => number;
  walkBudgetMs?: number;
}

/** What a system administrator checks first, measured afresh on every call (nothing here is cached). */
export class SystemOverviewService {
  private readonly clock: () => number;

  constructor(private readonly options: SystemOverviewOptions) {
    this.clock = options.clock ?? Date.now;
  }

  async read(): Promise<SystemOverview> {
    const o = this.options;
    const [databaseBytes, lake, artifacts, jobs, workers, disk] = await Promise.all([
      o.db.sizeBytes(),
      o.lake.storage(),
      directorySize(o.artifactsDir, this.clock() + (o.walkBudgetMs ?? WALK_BUDGET_MS), this.clock),
      o.jobs.depth(),
      o.jobs.workers(),
      statfs(o.dataDir),
    ]);
    const alive = workers.filter((w) => w.alive);
    const uptimeSeconds = process.uptime();
    const now = this.clock();
    return {
      version: o.version,
      node: process.version,
      uptimeSeconds,
      startedAt: Math.round(now - uptimeSeconds * 1000),
      database: { dialect: o.db.dialect, sizeBytes: databaseBytes },
      lake,
      artifacts,
      jobs,
      workers: {
        seen: workers.length,
        alive: alive.length,
        slots: alive.reduce((sum, w) => sum + w.concurrency, 0),
        busy: alive.reduce((sum, w) => sum + w.running.length, 0),
      },
      disk: { path: o.dataDir, freeBytes: disk.bavail * disk.bsize, totalBytes: disk.blocks * disk.bsize },
      sandbox: { ...o.sandbox.status, reason: o.sandbox.status.reason ?? null },
      measuredAt: now,
    };
  }
}

/**
 * The bytes and files under a folder (symbolic links are not followed), counted until `deadline`;
 * past it the count so far comes back with complete: false. A folder that is missing is empty.
 */
export async function directorySize(root: string, deadline: number, clock: () => number = Date.now): Promise<DirectorySize> {
  const size: DirectorySize = { bytes: 0, files: 0, complete: true };
  const folders = [root];
  while (folders.length > 0) {
    if (clock() > deadline) return { ...size, complete: false };
    const dir = folders.pop()!;
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (let i = 0; i < entries.length; i += STAT_BATCH) {
      if (clock() > deadline) return { ...size, complete: false };
      await Promise.all(
        entries.slice(i, i + STAT_BATCH).map(async (e) => {
          const full = path.join(dir, e.name);
          if (e.isDirectory()) folders.push(full);
          else if (e.isFile()) {
            // A file deleted while the walk runs is simply not counted.
            const st = await lstat(full).catch(() => null);
            if (st) {
              size.bytes += st.size;
              size.files += 1;
            }
          }
        }),
      );
    }
  }
  return size;
}
