/**
 * Counts failed attempts per key in a sliding window. In memory: with several servers each one
 * limits on its own, which still bounds a brute force to (servers × limit) guesses per window.
 *
 * A key with `maxFailures` in the window waits until the oldest of them leaves it, or — when
 * `lockMs` is shorter — until `lockMs` after its latest failure: then it gets one more try, and
 * each failure locks it again. A short lock keeps an attacker from holding an account shut while
 * still allowing only about one guess per `lockMs`.
 */
export class AttemptLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly maxFailures: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
    private readonly lockMs = windowMs,
  ) {}

  /** Seconds until the key may try again, or 0 when it may try now. */
  retryAfter(key: string): number {
    const recent = this.recent(key);
    if (recent.length < this.maxFailures) return 0;
    const oldest = recent[recent.length - this.maxFailures]!;
    const until = Math.min(oldest + this.windowMs, recent.at(-1)! + this.lockMs);
    const ms = until - this.now();
    return ms > 0 ? Math.ceil(ms / 1000) : 0;
  }

  fail(key: string): void {
    const recent = this.recent(key);
    recent.push(this.now());
    this.failures.set(key, recent);
    if (this.failures.size > 50_000) this.prune();
  }

  reset(key: string): void {
    this.failures.delete(key);
  }

  private recent(key: string): number[] {
    const since = this.now() - this.windowMs;
    return (this.failures.get(key) ?? []).filter((t) => t > since);
  }

  private prune(): void {
    for (const key of this.failures.keys()) if (this.recent(key).length === 0) this.failures.delete(key);
  }
}
