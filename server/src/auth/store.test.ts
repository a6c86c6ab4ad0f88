import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase, isUniqueViolation, type Db } from '../db/database.js';
import { appliedMigration, latestMigration, migrateToLatest } from '../db/migrate.js';
import { newId } from '../db/ids.js';
import { DIALECTS, createTestDatabase, type TestDatabase } from '../testing/databases.js';
import { AuthStore } from './store.js';

for (const dialect of DIALECTS) {
  describe(`AuthStore on ${dialect}`, () => {
    let tdb: TestDatabase;
    let db: Db;
    let store: AuthStore;

    before(async () => {
      tdb = await createTestDatabase(dialect);
      db = openDatabase(tdb.url);
      await migrateToLatest(db);
      store = new AuthStore(db);
    });
    after(async () => {
      await db.close();
      await tdb.drop();
    });

    const user = (username: string) => ({
      id: newId(),
      username,
      display_name: username,
      email: null,
      password_hash: null,
      is_admin: 0,
      disabled: 0,
      default_group_id: null,
      created_at: Date.now(),
      updated_at: Date.now(),
    });

    test('migrations apply once and are idempotent', async () => {
      await migrateToLatest(db);
      assert.equal(await appliedMigration(db), latestMigration);
    });

    test('users: insert, read back numbers and booleans as numbers, unique usernames', async () => {
      const u = user('ana');
      await store.insertUser(u);
      const back = await store.getUserByUsername('ana');
      assert.deepEqual(back, u);
      assert.equal(typeof back!.created_at, 'number');
      await assert.rejects(store.insertUser({ ...user('ana') }), (err) => isUniqueViolation(err));
    });

    test('memberships: upsert changes the role, counts admins, cascades when the group goes', async () => {
      const u = user('bruno');
      await store.insertUser(u);
      const g = { id: newId(), name: 'team-a', description: '', created_at: Date.now(), created_by: u.id };
      await store.insertGroup(g);
      await store.upsertMembership(g.id, u.id, 'viewer', Date.now());
      assert.equal(await store.getRole(g.id, u.id), 'viewer');
      await store.upsertMembership(g.id, u.id, 'admin', Date.now());
      assert.equal(await store.getRole(g.id, u.id), 'admin');
      assert.equal(await store.countAdmins(g.id), 1);
      assert.deepEqual(
        (await store.membershipsOfUser(u.id)).map((m) => [m.group_name, m.role]),
        [['team-a', 'admin']],
      );
      await store.deleteGroup(g.id);
      assert.equal(await store.getRole(g.id, u.id), undefined);
    });

    test('tokens: found by hash with owner and group names, listed newest first, revoked ones hidden', async () => {
      const u = user('carla');
      await store.insertUser(u);
      const base = {
        kind: 'personal' as const,
        user_id: u.id,
        group_id: null,
        role: null,
        created_by: u.id,
        expires_at: null,
        last_used_at: null,
        revoked_at: null,
      };
      const t1 = { ...base, id: newId(), name: 'one', prefix: 'fjp_aaaaaa', hash: 'h1', created_at: 1 };
      const t2 = { ...base, id: newId(), name: 'two', prefix: 'fjp_bbbbbb', hash: 'h2', created_at: 2 };
      await store.insertToken(t1);
      await store.insertToken(t2);
      assert.equal((await store.findTokenByHash('h1'))?.owner_name, 'carla');
      assert.deepEqual(
        (await store.listTokens({ userId: u.id, includeRevoked: false })).map((t) => t.name),
        ['two', 'one'],
      );
      await store.revokeToken(t1.id, 10);
      assert.deepEqual(
        (await store.listTokens({ userId: u.id, includeRevoked: false })).map((t) => t.name),
        ['two'],
      );
      assert.equal((await store.getToken(t1.id))?.revoked_at, 10);
    });

    test('audit: newest first, filtered by group, action and token, keyset paging by id', async () => {
      const g = { id: newId(), name: 'audited', description: '', created_at: Date.now(), created_by: null };
      await store.insertGroup(g);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const id = newId();
        ids.push(id);
        const token = i % 2 ? { actor_token_id: 'oddtoken1', actor_token_name: 'ci' } : { actor_token_id: null, actor_token_name: null };
        await store.insertAudit({
          id,
          at: i,
          actor_id: null,
          actor_name: 'x',
          ...token,
          action: i % 2 ? 'odd' : 'even',
          resource_type: 't',
          resource_id: String(i),
          group_id: g.id,
          ip: null,
          request_id: null,
          details: null,
        });
      }
      const page1 = await store.listAudit({ groupId: g.id, limit: 2 });
      assert.deepEqual(
        page1.map((r) => r.resource_id),
        ['4', '3'],
      );
      assert.equal(page1[0]!.group_name, 'audited');
      const page2 = await store.listAudit({ groupId: g.id, limit: 2, beforeId: page1[1]!.id });
      assert.deepEqual(
        page2.map((r) => r.resource_id),
        ['2', '1'],
      );
      assert.deepEqual(
        (await store.listAudit({ groupId: g.id, action: 'odd', limit: 10 })).map((r) => r.resource_id),
        ['3', '1'],
      );
      const byToken = await store.listAudit({ tokenId: 'oddtoken1', limit: 10 });
      assert.deepEqual(
        byToken.map((r) => [r.resource_id, r.actor_token_name]),
        [
          ['3', 'ci'],
          ['1', 'ci'],
        ],
      );
    });

    test("revoking a user's sessions keeps the one named, their personal tokens and other users' sessions", async () => {
      const u = user('sessions-owner');
      const other = user('sessions-other');
      await store.insertUser(u);
      await store.insertUser(other);
      const token = (userId: string, kind: 'session' | 'personal', hash: string) => ({
        id: newId(),
        kind,
        name: kind,
        prefix: 'p',
        hash,
        user_id: userId,
        group_id: null,
        role: null,
        created_at: 1,
        created_by: null,
        expires_at: null,
        last_used_at: null,
        revoked_at: null,
      });
      const [kept, ended, personal, others] = [
        token(u.id, 'session', 'h-kept'),
        token(u.id, 'session', 'h-ended'),
        token(u.id, 'personal', 'h-personal'),
        token(other.id, 'session', 'h-other'),
      ];
      for (const t of [kept, ended, personal, others]) await store.insertToken(t);
      assert.equal(await store.revokeSessionsOfUser(u.id, 42, kept.id), 1);
      assert.equal((await store.getToken(ended.id))?.revoked_at, 42);
      for (const t of [kept, personal, others]) assert.equal((await store.getToken(t.id))?.revoked_at, null, t.hash);
      assert.equal(await store.revokeSessionsOfUser(u.id, 43, null), 1, 'an already revoked session is not counted again');
      assert.equal((await store.getToken(kept.id))?.revoked_at, 43);
    });
  });
}
