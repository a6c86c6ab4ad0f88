import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
/** `fjs_`, the session's id, a per-login nonce, then the MAC of both (hex). */
const SHAPE = /^fjs_([a-z0-9]{20})([A-Za-z0-9]{16})([0-9a-f]{64})$/;

/**
 * Bearers derived from one session row: every login that reuses a session gets a fresh secret
 * (`fjs_<session id><nonce><mac>`) that nobody stores, not even as a hash. It is checked by its MAC
 * under the server's secret key and then lives and dies with the session row it names: revoking or
 * expiring that row ends every bearer derived from it. Servers sharing FORJA_SECRET_KEY (or the data
 * directory's key file) accept each other's bearers.
 */
export class SessionBearers {
  private readonly key: Buffer;

  constructor(secretKey: Buffer) {
    // Its own key, so a MAC here can never be confused with anything else the secret key protects.
    this.key = createHmac('sha256', secretKey).update('forja-session-bearer').digest();
  }

  issue(sessionId: string): string {
    let nonce = '';
    for (const b of randomBytes(16)) nonce += ALPHABET[b % ALPHABET.length];
    return `fjs_${sessionId}${nonce}${this.mac(sessionId, nonce)}`;
  }

  /** The session a bearer was derived from, or undefined when it is not one of ours (wrong shape or MAC). */
  sessionOf(secret: string): string | undefined {
    const m = SHAPE.exec(secret);
    if (!m) return undefined;
    const [, sessionId, nonce, mac] = m as unknown as [string, string, string, string];
    const expected = Buffer.from(this.mac(sessionId, nonce), 'hex');
    return timingSafeEqual(expected, Buffer.from(mac, 'hex')) ? sessionId : undefined;
  }

  private mac(sessionId: string, nonce: string): string {
    return createHmac('sha256', this.key).update(`${sessionId}.${nonce}`).digest('hex');
  }
}
