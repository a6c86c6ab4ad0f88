/**
 * Lets one event per key through per interval and counts the ones it holds back, so a caller who
 * repeats a refused request cannot flood the audit log. In memory, per server.
 */
export class AuditSampler {
  private readonly last = new Map<string, { at: number; held: number }>();

  constructor(
    private readonly intervalMs = 60_000,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * Null when the event should not be recorded; otherwise how many events of this key were held
   * back since the last one recorded (0 for the first).
   */
  admit(key: string): number | null {
    const now = this.clock();
    const seen = this.last.get(key);
    if (seen && now - seen.at < this.intervalMs) {
      seen.held++;
      return null;
    }
    if (this.last.size >= 10_000) this.prune(now);
    this.last.set(key, { at: now, held: 0 });
    return seen?.held ?? 0;
  }

  private prune(now: number): void {
    for (const [key, seen] of this.last) if (now - seen.at >= this.intervalMs) this.last.delete(key);
  }
}
