import type { DeploymentStatus } from '@forja/contracts';
import { invalid } from '../../errors.js';

/**
 * How MLOps Codex's model names, execution ids, Python versions and states map onto Forja's, both
 * ways and without a table: every mapping here is derived.
 */

/** Codex's display names are free text (< 32 characters); Forja's deployment names are [A-Za-z0-9_.-]. */
export const CODEX_NAME_MAX = 32;
const FORJA_NAME_MAX = 100;
/** A second model under one display name gets `..2`, `..3`: ".." never comes out of the escaping below. */
const COPY_SUFFIX = /\.\.(\d+)$/;
const ESCAPED_START = 'x.';

/**
 * A display name as a valid Forja deployment name, reversibly: letters, digits and "-" stay, a space
 * becomes "_", and every other character becomes ".xx" per UTF-8 byte ("Teste notebook Sync" →
 * "Teste_notebook_Sync", "Crédito" → "Cr.c3.a9dito"). `copy` > 1 marks another model of that name.
 * ".." appears only in the marks ("x.." in front, "..N" behind), never in an escaped name.
 */
export function forjaNameOf(display: string, copy = 1): string {
  const name = display.trim();
  if (!name) throw invalid('name: give the model a name.');
  if (name.length >= CODEX_NAME_MAX)
    throw invalid(`name: "${name.slice(0, 60)}" is ${name.length} characters; MLOps Codex model names are under ${CODEX_NAME_MAX}.`);
  if (!/^[\p{L}\p{N}]/u.test(name)) throw invalid(`name: "${name}" must start with a letter or digit.`);
  let out = '';
  for (const ch of name) {
    if (/[A-Za-z0-9-]/.test(ch)) out += ch;
    else if (ch === ' ') out += '_';
    else for (const byte of Buffer.from(ch, 'utf8')) out += `.${byte.toString(16).padStart(2, '0')}`;
  }
  // Forja names start with a letter or digit: an escaped first character ("Árvore") gets "x." before it.
  if (out.startsWith('.')) out = `${ESCAPED_START}${out}`;
  if (copy > 1) out += `..${copy}`;
  if (out.length > FORJA_NAME_MAX) throw invalid(`name: "${name}" has too many characters outside A-Z, a-z, 0-9, "-" and space to be stored; shorten it.`);
  return out;
}

/** The display name a Forja deployment name stands for (a name not made by forjaNameOf reads with "_" as a space). */
export function displayNameOf(forjaName: string): string {
  let base = forjaName.replace(COPY_SUFFIX, '');
  if (base.startsWith(`${ESCAPED_START}.`)) base = base.slice(ESCAPED_START.length);
  const bytes: number[] = [];
  for (let i = 0; i < base.length; i++) {
    const ch = base[i]!;
    const hex = base.slice(i + 1, i + 3);
    if (ch === '.' && /^[0-9a-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else bytes.push(...Buffer.from(ch === '_' ? ' ' : ch, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * Codex types execution ids as integers and its status and result URLs carry only the group and
 * that number. Forja ids are 9 base-36 characters of milliseconds, 2 of a counter and 9 random
 * ones: an execution started through Codex gets the id whose first 11 characters spell the number
 * (ms × 1296 + counter, under 2^53 for centuries) and whose tail is this fixed mark, so the number
 * and the id convert both ways. The database's primary key keeps two servers from minting the same one.
 */
const EXECUTION_MARK = 'codex0000';
const COUNTER_SPAN = 36 * 36;
let lastMs = 0;
let counter = 0;

export function newCodexExecutionId(now = Date.now()): { id: string; number: number } {
  counter = now === lastMs ? counter + 1 : 0;
  lastMs = now;
  const number = now * COUNTER_SPAN + (counter % COUNTER_SPAN);
  return { id: executionIdOf(number)!, number };
}

/** The Forja execution id of a Codex execution number; undefined for something that is not one. */
export function executionIdOf(number: number | string): string | undefined {
  const n = typeof number === 'number' ? number : /^\d{1,16}$/.test(number) ? Number(number) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 0) return undefined;
  const ms = Math.floor(n / COUNTER_SPAN);
  const head = ms.toString(36).padStart(9, '0') + (n % COUNTER_SPAN).toString(36).padStart(2, '0');
  return head.length === 11 ? head + EXECUTION_MARK : undefined;
}

/** The Codex number of a Forja execution id, if Codex started it. */
export function executionNumberOf(id: string): number | undefined {
  if (id.length !== 20 || !id.endsWith(EXECUTION_MARK)) return undefined;
  return Number.parseInt(id.slice(0, 9), 36) * COUNTER_SPAN + Number.parseInt(id.slice(9, 11), 36);
}

/** Codex's model states for Forja's deployment statuses (Deleted comes from the audit trail). */
export const CODEX_STATE: Record<DeploymentStatus, string> = {
  Uploaded: 'Ready',
  Building: 'Building',
  Deployed: 'Deployed',
  Failed: 'Failed',
  Disabled: 'Disabled',
};

/** Codex's Python names: Python38, Python39, Python310 (the client's only choices), or 3.10 itself. */
export function requestedPython(value: string | undefined): string {
  const v = (value ?? '').trim();
  const m = /^(?:Python3(\d{1,2})|3\.(\d{1,2}))$/.exec(v);
  if (!m) throw invalid(`python_version: "${v}" is not a Python version; send Python38, Python39 or Python310 (or 3.10).`);
  return `3.${m[1] ?? m[2]}`;
}
