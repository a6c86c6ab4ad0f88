import { Command, CommanderError } from 'commander';
import { ForjaApiError, ForjaConnectionError } from '@forja/client';
// Only the version: the server's modules (Fastify, DuckDB, …) load when `forja server` or `forja worker` runs.
import { VERSION } from '@forja/server/version';
import { registerAccountCommands } from './commands/account.js';
import { registerGroupCommands } from './commands/groups.js';
import { registerServerCommands } from './commands/server.js';
import { registerTokenCommands } from './commands/tokens.js';
import { registerUserCommands } from './commands/users.js';
import { registerTrackingCommands } from './commands/tracking.js';
import { registerModelCommands } from './commands/models.js';
import { registerJobCommands } from './commands/jobs.js';
import { registerDeploymentCommands } from './commands/deployments.js';
import { registerExecutionCommands } from './commands/executions.js';
import { registerProjectCommands } from './commands/projects.js';
import { registerLakeCommands } from './commands/lake.js';
import { registerPipelineCommands } from './commands/pipelines.js';
import { registerTrainingCommands } from './commands/training.js';
import { registerMonitorCommands } from './commands/monitors.js';

// `forja lake head big | head -3` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const program = new Command('forja')
  .description('Forja: experiments, models, deployments, lake and jobs in one MLOps platform')
  .version(VERSION)
  .option('--url <url>', 'server URL (FORJA_URL, or the one saved by `forja login`)')
  .option('--token <token>', 'API token (FORJA_TOKEN, or the one saved by `forja login`)')
  .option('--group <group>', 'group to act in (FORJA_GROUP; default: your default group)')
  .showHelpAfterError()
  .exitOverride();

registerServerCommands(program);
registerAccountCommands(program);
registerGroupCommands(program);
registerTokenCommands(program);
registerUserCommands(program);
registerTrackingCommands(program);
registerModelCommands(program);
registerJobCommands(program);
registerDeploymentCommands(program);
registerExecutionCommands(program);
registerProjectCommands(program);
registerLakeCommands(program);
registerTrainingCommands(program);
registerPipelineCommands(program);
registerMonitorCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  if (err instanceof ForjaApiError) {
    process.stderr.write(`forja: ${err.message} [${err.code}, HTTP ${err.status}${err.requestId ? `, request ${err.requestId}` : ''}]\n`);
    if (err.status === 401) process.stderr.write('Run `forja login` first, or pass --token.\n');
    process.exit(1);
  }
  if (err instanceof ForjaConnectionError) {
    process.stderr.write(`forja: ${err.message}\nIs the server running? Start one with \`forja server\`, or pass --url.\n`);
    process.exit(1);
  }
  process.stderr.write(`forja: ${(err as Error).message}\n`);
  process.exit(1);
}
