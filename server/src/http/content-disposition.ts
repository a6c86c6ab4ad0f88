import path from 'node:path';

/**
 * `Content-Disposition: attachment` for a file of any name. A header may only carry Latin-1, so
 * the name goes in twice (RFC 6266): plain ASCII in `filename` for old clients, and the real name,
 * UTF-8 and percent-encoded (RFC 8187), in `filename*` — a name like "模型.pkl" cannot break the reply.
 */
export function attachment(name: string): string {
  const base = path.basename(name);
  const ascii = base.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const encoded = encodeURIComponent(base).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
