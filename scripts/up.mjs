// `npm run up`: install what is missing, build, and start the server with the web UI on the
// embedded default (SQLite + local files under ./forja-data). Ctrl-C stops it cleanly.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT, ensureBuilt, ensureNodeDependencies, log } from './lib.mjs';

ensureNodeDependencies();
ensureBuilt();
log('starting Forja…');
const child = spawn(process.execPath, [path.join(ROOT, 'cli', 'bin', 'forja.js'), 'server', ...process.argv.slice(2)], {
  cwd: ROOT,
  stdio: 'inherit',
  env: { ...process.env, FORJA_DATA_DIR: process.env.FORJA_DATA_DIR || path.join(ROOT, 'forja-data'), FORJA_WEB_DIR: process.env.FORJA_WEB_DIR || path.join(ROOT, 'web', 'dist') },
});
// The child gets Ctrl-C from the terminal itself; forward other stop requests and leave with its code.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
