import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DIALECTS } from '../testing/databases.js';
import { parquetOf, parquetRows } from '../testing/parquet.js';
import { http, startTestServer, type TestServer } from '../testing/server.js';

const CSV_TYPES = [
  'id,score,active,name,seen_at,note',
  '1,0.5,true,ana,2026-01-02 03:04:05,',
  '2,1.25,false,"bo, the second",2026-02-03 04:05:06,hello',
  '3,,true,,2026-03-04 05:06:07,',
].join('\n');

for (const dialect of DIALECTS) {
  describe(`lake on ${dialect}`, () => {
    let s: TestServer;
    const call = (method: string, p: string, body?: unknown, token?: string, headers?: Record<string, string>) =>
      http(s.url, method, p, { token: token ?? s.adminToken, body, headers });
    const send = (table: string, body: string | Uint8Array, type: string, query = '', token?: string, extra: Record<string, string> = {}) =>
      fetch(`${s.url}/api/v1/lake/tables/${table}/rows${query ? `?${query}` : ''}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token ?? s.adminToken}`, 'content-type': type, ...extra },
        body: typeof body === 'string' ? body : Buffer.from(body),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
    const read = (table: string, q: Record<string, unknown>) => call('POST', `/api/v1/lake/tables/${table}/query`, q);

    before(async () => {
      s = await startTestServer({ dialect });
    });
    after(() => s.close());

    test('a CSV makes a table with its types; describe, list, rename', async () => {
      const made = await send('people', CSV_TYPES, 'text/csv');
      assert.equal(made.status, 201, JSON.stringify(made.body));
      assert.deepEqual(made.body, { table: 'people', created: true, rowsWritten: 3, version: null });
      const d = (await call('GET', '/api/v1/lake/tables/PEOPLE')).body;
      assert.deepEqual(
        d.columns.map((c: { name: string; type: string }) => `${c.name}:${c.type}`),
        ['id:BIGINT', 'score:DOUBLE', 'active:BOOLEAN', 'name:VARCHAR', 'seen_at:TIMESTAMP', 'note:VARCHAR'],
      );
      assert.equal(d.rowCount, 3);
      assert.equal(d.engine, dialect === 'postgres' ? 'postgres' : 'duckdb');
      assert.ok(d.sizeBytes > 0, `size ${d.sizeBytes}`);
      const page = (await read('people', { orderBy: [{ column: 'id' }] })).body;
      assert.deepEqual(page.rows[1], { id: 2, score: 1.25, active: false, name: 'bo, the second', seen_at: '2026-02-03 04:05:06', note: 'hello' });
      // An empty unquoted CSV field is NULL.
      assert.equal(page.rows[2].score, null);
      assert.equal(page.rows[0].note, null);
      const listed = (await call('GET', '/api/v1/lake/tables')).body.items;
      assert.deepEqual(
        listed.map((t: { name: string; rowCount: number }) => [t.name, t.rowCount]),
        [['people', 3]],
      );
      const renamed = await call('PATCH', '/api/v1/lake/tables/people', { name: 'customers' });
      assert.equal(renamed.body.name, 'customers');
      assert.equal((await call('GET', '/api/v1/lake/tables/people')).status, 404);
      // Types survive a file export too (PostgreSQL prints booleans as t/f, timestamps without a T).
      const file = await fetch(`${s.url}/api/v1/lake/tables/customers/query`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ format: 'parquet' }),
      });
      const back = await parquetRows(await file.arrayBuffer());
      assert.deepEqual(
        back.map((r) => [r.id, r.active, r.name, r.seen_at, r.note]),
        [
          ['1', true, 'ana', '2026-01-02 03:04:05', null],
          ['2', false, 'bo, the second', '2026-02-03 04:05:06', 'hello'],
          ['3', true, null, '2026-03-04 05:06:07', null],
        ],
      );
    });

    test('modes: fail refuses an existing table, append checks the schema, replace must be confirmed', async () => {
      const pq = await parquetOf(`SELECT range AS id, range * 1.5 AS x, 'r' || range AS label FROM range(5)`);
      assert.equal((await send('modes', pq, 'application/vnd.apache.parquet')).status, 201);
      const again = await send('modes', pq, 'application/vnd.apache.parquet');
      assert.equal(again.status, 409);
      assert.match(again.body.error.message, /already exists: append/);
      assert.equal((await send('modes', pq, 'application/vnd.apache.parquet', 'mode=append')).body.rowsWritten, 5);
      const wrong = await send('modes', await parquetOf(`SELECT 'a' AS id, 1 AS extra`), 'application/vnd.apache.parquet', 'mode=append');
      assert.equal(wrong.status, 400);
      assert.match(
        wrong.body.error.message,
        /missing columns "x", "label"; columns the table does not have "extra"; "id" is VARCHAR in the upload but BIGINT in the table/,
      );
      // Integers go into a float column; column names match regardless of case.
      assert.equal((await send('modes', await parquetOf(`SELECT 7 AS ID, 2 AS X, 'z' AS label`), 'application/vnd.apache.parquet', 'mode=append')).status, 200);
      const unconfirmed = await send('modes', pq, 'application/vnd.apache.parquet', 'mode=replace');
      assert.equal(unconfirmed.status, 400);
      assert.match(unconfirmed.body.error.message, /confirmReplace=true/);
      assert.equal((await call('GET', '/api/v1/lake/tables/modes')).body.rowCount, 11);
      const replaced = await send(
        'modes',
        await parquetOf(`SELECT 1 AS id, 1.0 AS x, 'only' AS label`),
        'application/vnd.apache.parquet',
        'mode=replace&confirmReplace=true',
      );
      assert.equal(replaced.status, 200);
      assert.equal((await call('GET', '/api/v1/lake/tables/modes')).body.rowCount, 1);
      // A write that fails half-way leaves nothing: the value 'x' does not fit the BIGINT column.
      const half = await send('modes', 'id,x,label\n2,2.0,ok\nx,3.0,bad\n', 'text/csv', 'mode=append');
      assert.equal(half.status, 400);
      assert.equal((await call('GET', '/api/v1/lake/tables/modes')).body.rowCount, 1);
    });

    test('versioned writes: VERSION is max + 1, even for concurrent writers; CREATED_AT and the model travel along', async () => {
      const pq = await parquetOf(`SELECT range AS customer, range % 2 AS predict FROM range(3)`);
      const first = await send('preds', pq, 'application/vnd.apache.parquet', 'mode=append&versioned=true');
      assert.deepEqual([first.status, first.body.version], [201, 1]);
      const before = Date.now();
      const writers = await Promise.all(
        Array.from({ length: 6 }, () => send('preds', pq, 'application/vnd.apache.parquet', 'mode=append&versioned=true&modelName=churn&modelVersion=4')),
      );
      assert.deepEqual(
        writers.map((w) => w.status),
        [200, 200, 200, 200, 200, 200],
      );
      assert.deepEqual(
        writers.map((w) => w.body.version).sort((a, b) => a - b),
        [2, 3, 4, 5, 6, 7],
      );
      const d = (await call('GET', '/api/v1/lake/tables/preds')).body;
      assert.equal(d.rowCount, 21);
      assert.equal(d.latestVersion, 7);
      assert.deepEqual(
        d.versions.map((v: { version: number; rows: number }) => [v.version, v.rows]),
        [7, 6, 5, 4, 3, 2, 1].map((v) => [v, 3]),
      );
      assert.equal(d.versions[0].modelName, 'churn');
      assert.equal(d.versions[0].modelVersion, '4');
      assert.equal(d.versions[6].modelName, null);
      assert.ok(Math.abs(d.versions[0].createdAt - before) < 60_000, `CREATED_AT is server time in UTC: ${d.versions[0].createdAt} vs ${before}`);
      const latest = (await read('preds', { version: 'latest' })).body;
      assert.equal(latest.rows.length, 3);
      assert.ok(latest.rows.every((r: { VERSION: number }) => r.VERSION === 7));
      assert.equal((await read('preds', { version: 1, columns: ['customer'] })).body.rows.length, 3);
      assert.equal((await read('modes', { version: 'latest' })).status, 400);
      // The upload's own VERSION column is replaced, not kept.
      const own = await send(
        'preds',
        await parquetOf(`SELECT 9 AS customer, 1 AS predict, 999 AS version`),
        'application/vnd.apache.parquet',
        'mode=append&versioned=true',
      );
      assert.equal(own.body.version, 8);

      // A lake from before the catalog kept counts: listing counts the table, the next write stores them.
      const listed = async () => (await call('GET', '/api/v1/lake/tables')).body.items.find((t: { name: string }) => t.name === 'preds');
      assert.deepEqual([(await listed()).rowCount, (await listed()).latestVersion, (await listed()).columnCount], [22, 8, 6]);
      await s.server.services.lake.engine.write('test', (c) => c.run(`UPDATE forja_lake.tables SET row_count = NULL, latest_version = NULL`));
      assert.deepEqual([(await listed()).rowCount, (await listed()).latestVersion], [22, 8]);
      assert.equal((await send('preds', pq, 'application/vnd.apache.parquet', 'mode=append')).status, 200);
      const [stored] = await s.server.services.lake.engine.read((c) => c.all(`SELECT row_count, latest_version FROM forja_lake.tables WHERE name = 'preds'`));
      assert.deepEqual([Number(stored!.row_count), Number(stored!.latest_version)], [25, 8]);
      assert.deepEqual([(await listed()).rowCount, (await listed()).latestVersion], [25, 8]);
    });

    test('reads: columns, filters, order and keyset pages; Parquet and CSV streamed', async () => {
      const pq = await parquetOf(
        `SELECT range AS n, CASE WHEN range % 3 = 0 THEN NULL ELSE 'g' || (range % 4) END AS grp, range / 10.0 AS v, TIMESTAMP '2026-01-01' + INTERVAL (range) HOUR AS at FROM range(250)`,
      );
      assert.equal((await send('big', pq, 'application/vnd.apache.parquet')).status, 201);
      const f = await read('big', {
        columns: ['n', 'grp'],
        filter: `grp IN ('g1', 'g2') AND NOT (n < 100) AND n BETWEEN 100 AND 200 AND grp LIKE 'g%'`,
        orderBy: [{ column: 'n', desc: true }],
        limit: 5,
      });
      assert.equal(f.status, 200, JSON.stringify(f.body));
      assert.deepEqual(
        f.body.columns.map((c: { name: string }) => c.name),
        ['n', 'grp'],
      );
      assert.deepEqual(
        f.body.rows.map((r: { n: number }) => r.n),
        [197, 194, 193, 190, 185],
      );
      assert.equal((await read('big', { filter: 'grp IS NULL' })).body.rows.length, 84);
      assert.equal((await read('big', { filter: `at >= '2026-01-10 00:00:00' OR v > 24.5`, limit: 1000 })).body.rows.length, 250 - 216);
      // Keyset pages over an order with NULLs: every row once, in order.
      const seen: number[] = [];
      let token: string | null = null;
      do {
        const page: any = (await read('big', { columns: ['n'], orderBy: [{ column: 'grp' }], limit: 37, ...(token ? { pageToken: token } : {}) })).body;
        seen.push(...page.rows.map((r: { n: number }) => r.n));
        token = page.nextPageToken;
      } while (token);
      assert.equal(seen.length, 250);
      assert.equal(new Set(seen).size, 250);
      const other = await read('big', { columns: ['n'], orderBy: [{ column: 'n' }], pageToken: (await read('big', { limit: 2 })).body.nextPageToken });
      assert.equal(other.status, 400);
      assert.match(other.body.error.message, /another query/);

      const parquet = await fetch(`${s.url}/api/v1/lake/tables/big/query`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ format: 'parquet', columns: ['n', 'v'], filter: 'n >= 200' }),
      });
      assert.equal(parquet.headers.get('content-type'), 'application/vnd.apache.parquet');
      assert.equal(parquet.headers.get('x-forja-rows'), '50');
      const back = await parquetRows(await parquet.arrayBuffer());
      assert.equal(back.length, 50);
      assert.deepEqual(Object.keys(back[0]!), ['n', 'v']);
      // A read that keeps no rows is an empty file with the columns, in both formats.
      const none = await fetch(`${s.url}/api/v1/lake/tables/big/query`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ format: 'parquet', columns: ['n', 'at'], filter: 'n > 1000' }),
      });
      assert.equal(none.status, 200, await none.clone().text());
      assert.deepEqual(await parquetRows(await none.arrayBuffer()), []);
      const noneCsv = await fetch(`${s.url}/api/v1/lake/tables/big/export?format=csv&filter=${encodeURIComponent('n > 1000')}`, {
        headers: { authorization: `Bearer ${s.adminToken}` },
      });
      assert.equal((await noneCsv.text()).trim(), 'n,grp,v,at');
      const csv = await fetch(`${s.url}/api/v1/lake/tables/big/export?format=csv&filter=${encodeURIComponent('n < 3')}`, {
        headers: { authorization: `Bearer ${s.adminToken}` },
      });
      const text = await csv.text();
      assert.equal(text.trim().split('\n')[0], 'n,grp,v,at');
      assert.equal(text.trim().split('\n').length, 4);
    });

    test('bad input: names, injection-shaped filters, files that lie, ragged CSV, size limit, other groups', async () => {
      assert.equal((await call('GET', '/api/v1/lake/tables/nope')).status, 404);
      assert.equal((await read('nope', {})).status, 404);
      for (const bad of [`a"b`, 'two words', 'x;DROP', 'a.b']) {
        const r = await send(encodeURIComponent(bad), 'a\n1\n', 'text/csv');
        assert.equal(r.status, 400, bad);
        assert.match(r.body.error.message, /table names are letters, digits and underscores/);
      }
      // An SQL keyword is a fine name: it never reaches SQL as a name.
      assert.equal((await send('select', 'a\n1\n', 'text/csv')).status, 201);
      assert.equal((await read('select', {})).body.rows.length, 1);
      // Odd column names are quoted, and filters reach them in double quotes.
      const odd = await send('odd', '"a""; DROP TABLE x; --","sepal length (cm)"\n1,5.1\n2,4.9\n', 'text/csv');
      assert.equal(odd.status, 201, JSON.stringify(odd.body));
      const picked = await read('odd', { filter: '"sepal length (cm)" > 5' });
      assert.deepEqual(picked.body.rows, [{ 'a"; DROP TABLE x; --': 1, 'sepal length (cm)': 5.1 }]);
      for (const filter of [
        '1=1; DROP TABLE odd',
        'a = 1 OR 1=1',
        '"sepal length (cm)" = 1; --',
        'nope = 3',
        '"sepal length (cm)" = \'abc\'',
        "x' OR '1'='1",
        '(("sepal length (cm)" > 1)',
        'NULL = NULL',
      ]) {
        const r = await read('odd', { filter });
        assert.equal(r.status, 400, `${filter}: ${JSON.stringify(r.body)}`);
      }
      assert.equal((await call('GET', '/api/v1/lake/tables/odd')).body.rowCount, 2);
      const notParquet = await send('fake', 'this is not parquet at all', 'application/vnd.apache.parquet');
      assert.equal(notParquet.status, 400);
      assert.match(notParquet.body.error.message, /not a readable Parquet file/);
      assert.equal((await call('GET', '/api/v1/lake/tables/fake')).status, 404);
      const ragged = await send('ragged', 'a,b\n1,2\n3,4\n5,6,7\n8,9\n', 'text/csv');
      assert.equal(ragged.status, 400);
      assert.match(ragged.body.error.message, /CSV line 4 has 3 fields; the header has 2/);
      assert.equal((await send('json', '{"a":1}', 'application/json')).status, 415);
      assert.equal((await send('empty', '', 'text/csv')).status, 400);

      await call('POST', '/api/v1/groups', { name: `other-${dialect}` });
      assert.equal((await call('GET', '/api/v1/lake/tables/odd', undefined, undefined, { 'x-forja-group': `other-${dialect}` })).status, 404);
      assert.equal((await call('GET', '/api/v1/lake/tables', undefined, undefined, { 'x-forja-group': `other-${dialect}` })).body.items.length, 0);

      await call('POST', '/api/v1/users', { username: `viewer-${dialect}`, password: 'viewer-password' });
      await call('PUT', `/api/v1/groups/default/members/viewer-${dialect}`, { role: 'viewer' });
      const viewer = (await http(s.url, 'POST', '/api/v1/auth/login', { body: { username: `viewer-${dialect}`, password: 'viewer-password' } })).body.token;
      assert.equal((await call('GET', '/api/v1/lake/tables/odd', undefined, viewer)).status, 200);
      assert.equal((await call('DELETE', '/api/v1/lake/tables/odd', undefined, viewer)).status, 403);
      assert.equal((await send('odd', 'x\n1\n', 'text/csv', 'mode=append', viewer)).status, 403);
      assert.equal((await call('DELETE', '/api/v1/lake/tables/odd')).status, 200);
      assert.equal((await call('GET', '/api/v1/lake/tables/odd')).status, 404);
      const audit = (await call('GET', '/api/v1/audit?action=lake.table.drop')).body.items;
      assert.equal(audit[0].resourceId, 'odd');
    });

    test('a read while a write adds columns sees that write whole or not at all', async () => {
      // The inference log widens its table as new features arrive while readers query it: a read
      // that took the columns before the write and the rows after it returned rows without their columns.
      assert.equal((await send('evolving', 'a\n0\n', 'text/csv')).status, 201);
      const [{ group_id: groupId } = {}] = await s.server.services.lake.engine.read((c) =>
        c.all(`SELECT group_id FROM forja_lake.tables WHERE name = 'evolving'`),
      );
      const dir = await mkdtemp(path.join(tmpdir(), 'forja-evolve-'));
      try {
        for (let k = 1; k <= 15; k++) {
          const file = path.join(dir, `${k}.csv`);
          await writeFile(file, `a,c${k}\n${k},${k}\n`);
          const write = s.server.services.lake.writeRows(
            { groupId: String(groupId), createdBy: 'test', evolve: true },
            'evolving',
            { file, format: 'csv' },
            { mode: 'append' },
          );
          const reads = Array.from({ length: 6 }, () => read('evolving', { filter: `a = ${k}` }));
          const [, ...pages] = await Promise.all([write, ...reads]);
          for (const page of pages) {
            assert.equal(page.status, 200, page.text);
            if (page.body.rows.length)
              assert.ok(
                page.body.columns.some((c: { name: string }) => c.name === `c${k}`),
                `rows of write ${k} came without its column c${k}`,
              );
          }
          assert.deepEqual((await read('evolving', { filter: `a = ${k}` })).body.rows, [
            {
              a: k,
              ...Object.fromEntries(
                Array.from({ length: 15 }, (_, j) => [`c${j + 1}`, j + 1 === k ? k : null]).filter(([n]) => Number(String(n).slice(1)) <= k),
              ),
            },
          ]);
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    test('uploads above the limit get a 413 and the server goes on', async () => {
      const small = await startTestServer({ dialect, env: { FORJA_LAKE_MAX_UPLOAD_MB: '1' } });
      try {
        const big = 'a,b\n' + '1234567890,abcdefghij\n'.repeat(100_000);
        const declared = await fetch(`${small.url}/api/v1/lake/tables/huge/rows`, {
          method: 'POST',
          headers: { authorization: `Bearer ${small.adminToken}`, 'content-type': 'text/csv' },
          body: big,
        });
        assert.equal(declared.status, 413);
        // Without a length up front (chunked), the server counts as it streams.
        const chunks = (async function* () {
          for (let i = 0; i < 30; i++) yield new TextEncoder().encode(i === 0 ? 'a,b\n' : '1234567890,abcdefghij\n'.repeat(5000));
        })();
        const streamed = await fetch(`${small.url}/api/v1/lake/tables/huge/rows`, {
          method: 'POST',
          headers: { authorization: `Bearer ${small.adminToken}`, 'content-type': 'text/csv' },
          body: chunks as any,
          duplex: 'half',
        } as RequestInit);
        assert.equal(streamed.status, 413);
        assert.match(((await streamed.json()) as any).error.message, /FORJA_LAKE_MAX_UPLOAD_MB/);
        assert.equal((await http(small.url, 'GET', '/api/v1/lake/tables/huge', { token: small.adminToken })).status, 404);
        assert.equal((await http(small.url, 'GET', '/health')).status, 200);
      } finally {
        await small.close();
      }
    });
  });
}
