import type { Db } from '../db/database.js';
import { VERSION } from '../version.js';
import { kindsBeyond, type Capability } from './catalog.js';
import { TableDispatcher } from './dispatch.js';
import { JobEngine } from './engine.js';
import { GraphileDispatcher, type EngineLog } from './graphile-dispatch.js';
import { SettleFeed } from './settle-feed.js';
import { JobsStore } from './store.js';

export interface EngineSettings {
  databaseUrl: string;
  workers: number;
  jobLeaseMs: number;
  mode: 'embedded' | 'standalone';
  /** What this process can do beyond running code (see catalog.ts); jobs needing more are left to others. */
  capabilities: readonly Capability[];
  log: EngineLog;
  clock?: () => number;
}

/** SQLite: the jobs table is the queue. PostgreSQL: graphile-worker dispatches, so other hosts can work too. */
export function createJobEngine(db: Db, s: EngineSettings): JobEngine {
  const store = new JobsStore(db);
  const clock = s.clock ?? Date.now;
  const sqlite = db.dialect === 'sqlite';
  const dispatcher = sqlite
    ? new TableDispatcher(store, clock, kindsBeyond(new Set(s.capabilities)))
    : new GraphileDispatcher(s.databaseUrl, s.log, s.workers + 3, s.capabilities);
  // One process owns a SQLite database, so every settle happens in it; on PostgreSQL other processes' are heard by LISTEN.
  const feed = sqlite ? undefined : new SettleFeed(s.databaseUrl, s.log);
  return new JobEngine(store, dispatcher, {
    mode: s.mode,
    concurrency: s.workers,
    leaseMs: s.jobLeaseMs,
    version: VERSION,
    log: s.log,
    clock,
    capabilities: s.capabilities,
    feed,
  });
}
