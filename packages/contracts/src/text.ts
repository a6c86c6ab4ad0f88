import type { z } from 'zod';

/*
 * What names and values may hold, the same on every API. Names (experiments, runs, models, keys)
 * are shown in lists and logs, so they may not hold control characters (C0 with NUL, DEL, C1), lone UTF-16
 * surrogates (not Unicode at all) or the bidirectional embeddings, overrides and isolates that make
 * text display as something it is not. Letters of every script are fine. Values (params, tags,
 * descriptions) may hold newlines and tabs; only NUL is refused, since PostgreSQL cannot store it.
 */
const NAME_FORBIDDEN = /[\0-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]/u;

/** A character that names may not hold, said so a person can find it (NUL, a control character…). */
export function describeCharacter(ch: string): string {
  const code = ch.codePointAt(0)!;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  if (code === 0) return `a NUL character (${hex})`;
  if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return `a control character (${hex})`;
  if (code >= 0xd800 && code <= 0xdfff) return `a lone UTF-16 surrogate (${hex}), which is not valid Unicode`;
  return `a bidirectional control character (${hex}), which makes text display differently from what it is`;
}

/** Why `text` cannot be a name, or undefined when it can. */
export function nameProblem(text: string): string | undefined {
  const bad = NAME_FORBIDDEN.exec(text);
  return bad ? `contains ${describeCharacter(bad[0])} at position ${bad.index + 1}` : undefined;
}

/** Why `text` cannot be stored as a value, or undefined when it can. */
export function valueProblem(text: string): string | undefined {
  const at = text.indexOf('\0');
  return at < 0 ? undefined : `contains ${describeCharacter('\0')} at position ${at + 1}, which cannot be stored`;
}

const refineWith = (problem: (text: string) => string | undefined) => (text: string, ctx: z.RefinementCtx) => {
  const p = problem(text);
  if (p) ctx.addIssue({ code: 'custom', message: p });
};

/** A string schema that also follows the name rule above. */
export const safeName = (schema: z.ZodString) => schema.superRefine(refineWith(nameProblem));
/** A string schema that also follows the value rule above. */
export const safeValue = (schema: z.ZodString) => schema.superRefine(refineWith(valueProblem));

/** A list of key/value items in which each key appears once; a repeat is a 400 naming the key. */
export const uniqueKeys =
  (what: string) =>
  (items: { key: string }[], ctx: z.RefinementCtx): void => {
    const seen = new Set<string>();
    items.forEach((item, i) => {
      if (seen.has(item.key))
        ctx.addIssue({ code: 'custom', path: [i, 'key'], message: `the ${what} '${item.key}' appears more than once; send each key once` });
      seen.add(item.key);
    });
  };
