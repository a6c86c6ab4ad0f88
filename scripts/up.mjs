// `npm run up`: install what is missing, build, and start the server with the web UI on the
// embedded default (SQLite + local files under ./forja-data). Ctrl-C stops it cleanly.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT, ensureAptPackages, ensureBuilt, ensureNodeDependencies, log } from './lib.mjs';

ensureNodeDependencies();
// User code runs in bubblewrap's sandbox; without it the server starts but refuses to run models and jobs, and says why.
if (process.platform === 'linux') {
  try {
    ensureAptPackages(['bubblewrap']);
  } catch (err) {
    log(`could not install bubblewrap (${err.message}): models and jobs will be refused until it is installed`);
  }
}
ensureBuilt();
log('starting Forja…');
const child = spawn(process.execPath, [path.join(ROOT, 'cli', 'bin', 'forja.js'), 'server', ...process.argv.slice(2)], {
  cwd: ROOT,
  stdio: 'inherit',
  env: {
    ...process.env,
    FORJA_DATA_DIR: process.env.FORJA_DATA_DIR || path.join(ROOT, 'forja-data'),
    FORJA_WEB_DIR: process.env.FORJA_WEB_DIR || path.join(ROOT, 'web', 'dist'),
  },
});
// The child gets Ctrl-C from the terminal itself; forward other stop requests and leave with its code.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
