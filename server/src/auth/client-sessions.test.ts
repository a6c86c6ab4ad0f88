import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { openDatabase, type Db } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { newId } from '../db/ids.js';
import { DIALECTS, createTestDatabase, type TestDatabase } from '../testing/databases.js';
import { AccessPolicy } from './access.js';
import { AuditLog } from './audit.js';
import { Authenticator } from './authenticator.js';
import { hashPassword } from './passwords.js';
import { SessionBearers } from './session-bearers.js';
import { AuthStore } from './store.js';
import { TokensService } from './tokens-service.js';

const HOUR = 3600_000;
const ctx = { ip: '127.0.0.1', requestId: null };

for (const dialect of DIALECTS) {
  describe(`reusable client sessions on ${dialect}`, () => {
    let tdb: TestDatabase;
    let db: Db;
    let store: AuthStore;
    let now = Date.now();
    const clock = () => now;
    let tokens: TokensService;
    let authenticator: Authenticator;
    let bearers: SessionBearers;

    before(async () => {
      tdb = await createTestDatabase(dialect);
      db = openDatabase(tdb.url);
      await migrateToLatest(db);
      store = new AuthStore(db);
      const access = new AccessPolicy({ store, clock });
      const audit = new AuditLog({ store, access, clock });
      bearers = new SessionBearers(randomBytes(32));
      authenticator = new Authenticator({ store, audit, bearers, clock });
      tokens = new TokensService({ store, access, audit, authenticator, bearers, sessionTtlMs: 12 * HOUR, clock });
      await store.insertUser({
        id: newId(),
        username: 'nina',
        display_name: 'nina',
        email: null,
        password_hash: await hashPassword('nina-password'),
        is_admin: 0,
        disabled: 0,
        default_group_id: null,
        created_at: now,
        updated_at: now,
      });
    });
    after(async () => {
      await db.close();
      await tdb.drop();
    });

    const sessionOf = async (secret: string) => (await authenticator.fromToken(secret)).tokenId;

    test('a session is reused while it has more than half its lifetime left, then a new one opens', async () => {
      const first = await tokens.clientLogin(ctx, 'nina', 'nina-password', 'codex');
      now += 5 * HOUR;
      const reused = await tokens.clientLogin(ctx, 'nina', 'nina-password', 'codex');
      assert.equal(await sessionOf(reused.token), await sessionOf(first.token));
      assert.equal(reused.expiresAt, first.expiresAt, 'a derived secret lives as long as its session');
      now += 1.5 * HOUR;
      const renewed = await tokens.clientLogin(ctx, 'nina', 'nina-password', 'codex');
      assert.notEqual(await sessionOf(renewed.token), await sessionOf(first.token), 'under half its lifetime left: a new session');
      assert.equal(renewed.expiresAt, now + 12 * HOUR);
      authenticator.invalidate();
      assert.equal(await sessionOf(first.token), await sessionOf(reused.token), 'the old session still works until it expires');
      now = first.expiresAt;
      authenticator.invalidate();
      await assert.rejects(authenticator.fromToken(first.token), /expired/);
      assert.ok(await sessionOf(renewed.token));
    });

    test('logins at the same moment open one session', async () => {
      now += 24 * HOUR;
      const secrets = await Promise.all(Array.from({ length: 8 }, () => tokens.clientLogin(ctx, 'nina', 'nina-password', 'codex')));
      const sessions = new Set(await Promise.all(secrets.map((s) => sessionOf(s.token))));
      assert.equal(sessions.size, 1);
    });

    test('a bearer signed with another key, or naming a token that is no session, is refused', async () => {
      const mine = await tokens.clientLogin(ctx, 'nina', 'nina-password', 'codex');
      const sessionId = (await sessionOf(mine.token))!;
      await assert.rejects(authenticator.fromToken(new SessionBearers(randomBytes(32)).issue(sessionId)), /not valid/);
      const user = (await store.getUserByUsername('nina'))!;
      const personalId = newId();
      await store.insertToken({
        id: personalId,
        kind: 'personal',
        name: 'laptop',
        prefix: 'fjp_x',
        hash: 'not-a-real-hash',
        user_id: user.id,
        group_id: null,
        role: null,
        created_at: now,
        created_by: user.id,
        expires_at: null,
        last_used_at: null,
        revoked_at: null,
      });
      await assert.rejects(authenticator.fromToken(bearers.issue(personalId)), /not valid/);
    });
  });
}
