import { randomBytes } from 'node:crypto';

let last = 0;
let counter = 0;

/**
 * A 20-character lowercase id whose lexical order follows creation time, so "newest first"
 * paging can key on the id alone.
 */
export function newId(): string {
  const now = Date.now();
  counter = now === last ? counter + 1 : 0;
  last = now;
  const time = now.toString(36).padStart(9, '0');
  const seq = (counter % 1296).toString(36).padStart(2, '0');
  const rand = Array.from(randomBytes(9), (b) => (b % 36).toString(36)).join('');
  return time + seq + rand;
}
