// Option parsers and small formatters the commands share.

/** A whole-number option (commander passes strings). */
export const int = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`"${v}" is not a whole number`);
  return n;
};

/** A repeatable option: each use adds its value. */
export const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** A time for a table cell: ISO in UTC without milliseconds, or "-". */
export const when = (t: number | null): string => (t === null ? '-' : new Date(t).toISOString().replace('.000Z', 'Z'));

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** --param key=value, repeatable; values that parse as JSON (numbers, true, lists) keep their type. */
export function params(list: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of list) {
    const eq = p.indexOf('=');
    if (eq < 1) throw new Error(`--param takes key=value, not "${p}"`);
    const raw = p.slice(eq + 1);
    try {
      out[p.slice(0, eq)] = JSON.parse(raw);
    } catch {
      out[p.slice(0, eq)] = raw;
    }
  }
  return out;
}
