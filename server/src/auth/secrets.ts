import { createHash, randomBytes } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** Prefixes tell a leaked secret's kind at a glance (and let secret scanners match them). */
const KIND_PREFIX = { session: 'fjs', personal: 'fjp', service: 'fjv', group: 'fjg' } as const;

export function generateTokenSecret(kind: keyof typeof KIND_PREFIX): string {
  const bytes = randomBytes(40);
  let body = '';
  for (const b of bytes) body += ALPHABET[b % ALPHABET.length];
  return `${KIND_PREFIX[kind]}_${body}`;
}

/** Tokens carry ≥ 230 bits of entropy, so a fast hash is enough and lets us look them up by hash. */
export function hashToken(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** What lists show: enough to recognise a token, useless to an attacker. */
export function tokenPrefix(secret: string): string {
  return secret.slice(0, 10);
}
