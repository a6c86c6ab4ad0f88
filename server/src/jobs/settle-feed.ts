import pg from 'pg';
import type { EngineLog } from './graphile-dispatch.js';

/** The PostgreSQL channel a job's final status is announced on; the payload is the job's id. */
export const SETTLED_CHANNEL = 'forja_job_settled';

/**
 * Hears jobs settle in other processes (a standalone worker, another server) on PostgreSQL: one
 * LISTEN connection per process, opened when the first waiter needs it. A notice missed while the
 * connection was down is made up for by the waiters' slow re-check.
 */
export class SettleFeed {
  private client: pg.Client | undefined;
  private connecting: Promise<void> | undefined;
  private closed = false;
  private warned = false;
  private readonly listeners = new Set<(jobId: string) => void>();

  constructor(
    private readonly connectionString: string,
    private readonly log: EngineLog,
  ) {}

  /** Calls fn with the id of every job announced as settled while listening. */
  subscribe(fn: (jobId: string) => void): void {
    this.listeners.add(fn);
  }

  /** Resolves once LISTEN is in place, so a settle committed after it is heard; never rejects. */
  listen(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.connecting ??= this.connect().catch((err: unknown) => {
      this.connecting = undefined;
      if (!this.warned) this.log.warn(`listening for finished jobs failed (waits fall back to a slow re-check): ${(err as Error).message}`);
      this.warned = true;
    });
    return this.connecting;
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.connectionString });
    const drop = () => {
      // The next listen() opens a new connection.
      if (this.client === client) {
        this.client = undefined;
        this.connecting = undefined;
      }
    };
    client.on('error', drop);
    client.on('end', drop);
    client.on('notification', (n) => {
      if (n.channel !== SETTLED_CHANNEL || !n.payload) return;
      for (const fn of this.listeners) fn(n.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${SETTLED_CHANNEL}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.warned = false;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.connecting;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}
