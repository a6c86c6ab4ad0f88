import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

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

/** Encrypts a secret we must be able to read back (a webhook's signing key) with AES-256-GCM. */
export function seal(key: Buffer, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `v1:${Buffer.concat([iv, cipher.getAuthTag(), data]).toString('base64')}`;
}

export function unseal(key: Buffer, sealed: string): string {
  if (!sealed.startsWith('v1:')) throw new Error('unknown sealed-secret format');
  const raw = Buffer.from(sealed.slice(3), 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
}

/** A random secret for signing (webhooks), in the token alphabet. */
export function generateSigningSecret(): string {
  let body = '';
  for (const b of randomBytes(32)) body += ALPHABET[b % ALPHABET.length];
  return `whsec_${body}`;
}
