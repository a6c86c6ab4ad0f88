import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { Sandbox } from '../runtime/sandbox.js';

/**
 * The real sandbox for tests that build runtime parts without a server. Each group name maps to a
 * fixed user id, as the database would number it; shared builds run as the servers' default (900000),
 * since they share the test package cache. A missing bubblewrap fails the tests that use it.
 */
export function testSandbox(): Sandbox {
  const sandbox = Sandbox.detect(
    'auto',
    { uidOf: async (groupId) => 950_001 + (createHash('sha256').update(groupId).digest().readUInt16BE(0) % 10_000) },
    900_000,
  );
  if (sandbox.status.mode !== 'bwrap') throw new Error(`The tests need the sandbox: ${sandbox.status.reason}`);
  return sandbox;
}

/**
 * One package cache for every test server (FORJA_UV_CACHE_DIR), kept between runs so builds do not
 * download the same wheels again; production's default is a cache per group.
 */
export function testUvCache(): string {
  return process.env.FORJA_UV_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'forja-test-uv');
}
