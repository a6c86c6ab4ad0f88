// Rules on the UI's sources that keep it from drifting away from the TS client, checked by reading
// web/src (no browser): every data call is one of @forja/client's methods, so an endpoint is
// declared once, typed by the contracts, and covered by the client's route coverage test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const SRC = path.resolve(import.meta.dirname, '../src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sources(full);
    return /\.tsx?$/.test(e.name) ? [full] : [];
  });
}

/** Each line of the files matching `pattern`, as "file:line: text". */
function offending(files: string[], pattern: RegExp): string[] {
  return files.flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .flatMap((line, i) => (pattern.test(line) ? [`${path.relative(SRC, file)}:${i + 1}: ${line.trim()}`] : [])),
  );
}

const files = sources(SRC);

// No exceptions: even downloads (artifacts, execution results) read through the client, since they
// need its Authorization header, which a plain link would not send.
test('the UI names no API path: each endpoint is a method of the TS client', () => {
  assert.ok(files.length > 50, `only ${files.length} source files found under ${SRC}`);
  assert.deepEqual(offending(files, /\/api\//), [], 'add the endpoint to packages/client and call that method');
});

test("the UI never calls the client's generic request or send, which take a path", () => {
  assert.deepEqual(offending(files, /\bclient\.(request|send)\b/), [], 'add the endpoint to packages/client and call that method');
});
