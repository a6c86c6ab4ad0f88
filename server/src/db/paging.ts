import { invalid } from '../errors.js';

/** Opaque page tokens (an offset today; keyset later without changing what clients see). */
export function encodePageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64url');
}

export function decodePageToken(token: string | undefined): number {
  if (!token) return 0;
  try {
    const { offset } = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { offset: unknown };
    if (typeof offset === 'number' && Number.isInteger(offset) && offset >= 0) return offset;
  } catch {
    // fall through to the error below
  }
  throw invalid('Invalid page token: pass back the nextPageToken of the previous page unchanged.');
}

/** Splits a `limit + 1` fetch into the page and, when more rows exist, the next page's token. */
export function pageOf<T>(rows: T[], offset: number, limit: number): { page: T[]; nextPageToken?: string } {
  return rows.length > limit ? { page: rows.slice(0, limit), nextPageToken: encodePageToken(offset + limit) } : { page: rows };
}
