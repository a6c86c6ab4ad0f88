import type { Db } from '../db/database.js';
import { VERSION } from '../version.js';
import { TableDispatcher } from './dispatch.js';
import { JobEngine } from './engine.js';
import { GraphileDispatcher, type EngineLog } from './graphile-dispatch.js';
import { JobsStore } from './store.js';

export interface EngineSettings {
  databaseUrl: string;
  workers: number;
  jobLeaseMs: number;
  mode: 'embedded' | 'standalone';
  log: EngineLog;
  clock?: () => number;
}

/** SQLite: the jobs table is the queue. PostgreSQL: graphile-worker dispatches, so other hosts can work too. */
export function createJobEngine(db: Db, s: EngineSettings): JobEngine {
  const store = new JobsStore(db);
  const clock = s.clock ?? Date.now;
  const dispatcher = db.dialect === 'sqlite' ? new TableDispatcher(store, clock) : new GraphileDispatcher(s.databaseUrl, s.log, s.workers + 3);
  return new JobEngine(store, dispatcher, { mode: s.mode, concurrency: s.workers, leaseMs: s.jobLeaseMs, version: VERSION, log: s.log, clock });
}
