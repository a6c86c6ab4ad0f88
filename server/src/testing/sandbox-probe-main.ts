// Runs the malicious probe through the sandbox from a separate process, so the tests can start it as
// an unprivileged user: `node --import tsx sandbox-probe-main.ts <targets json> <work dir>`.
import { Sandbox } from '../runtime/sandbox.js';
import { runProbe } from './sandbox-probe.js';

const [targets, work] = process.argv.slice(2);
const sandbox = Sandbox.detect('auto', { uidOf: async () => -1 }, -1);
if (sandbox.status.mode !== 'bwrap') {
  process.stdout.write(JSON.stringify({ error: sandbox.status.reason }) + '\n');
  process.exit(1);
}
const result = await runProbe(sandbox, '/usr/bin/python3', JSON.parse(targets!), 'unprivileged', work!);
process.stdout.write(JSON.stringify({ ...result, status: sandbox.status }) + '\n');
