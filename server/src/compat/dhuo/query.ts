import { invalid } from '../../errors.js';

/**
 * The query string as DHuolib writes it: concatenated without encoding (`?filter_string=name =
 * 'iris' AND tags.v LIKE 'v%'&max_results=10`). requests percent-encodes spaces and lone "%" on the
 * way, but a hand-written URL may not, and a filter may hold "&" or "=". So the raw string is split
 * only before the parameter names the route knows, and percent escapes are decoded where they are
 * valid and kept as written where they are not.
 */
export function rawQuery(url: string, names: readonly string[]): Record<string, string> {
  const at = url.indexOf('?');
  if (at < 0) return {};
  const raw = url.slice(at + 1);
  const alternatives = names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  const start = new RegExp(`(?:^|&)(${alternatives})=`, 'g');
  const marks = [...raw.matchAll(start)];
  const out: Record<string, string> = {};
  marks.forEach((m, i) => {
    const from = m.index + m[0].length;
    const to = i + 1 < marks.length ? marks[i + 1]!.index : raw.length;
    out[m[1]!] ??= decodeTolerant(raw.slice(from, to));
  });
  return out;
}

/**
 * Percent escapes decoded (UTF-8 sequences included); an invalid one stays as written. "+" stays a
 * "+": DHuolib never encodes one, and page tokens are base64.
 */
function decodeTolerant(text: string): string {
  return text.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      // Not valid UTF-8 as a whole: decode byte by byte where each byte is a character on its own.
      return run.replace(/%([0-7][0-9a-fA-F])/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
    }
  });
}

/** A positive integer parameter; empty or absent gives the default. */
export function intParam(value: string | undefined, name: string, fallback: number, max: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw invalid(`Invalid value '${value.slice(0, 40)}' for parameter '${name}': use a whole number from 1 to ${max}.`);
  return n;
}

/** An empty string means "not given", as DHuolib sends every parameter whether set or not. */
export function given(value: string | undefined): string | undefined {
  const v = value?.trim();
  return v ? v : undefined;
}
