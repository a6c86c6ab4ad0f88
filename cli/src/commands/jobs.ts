import type { Command } from 'commander';
import { TERMINAL_JOB_STATUSES, WEBHOOK_EVENTS, type JobStatus } from '@forja/contracts';
import type { ForjaClient } from '@forja/client';
import { clientFor, jsonOf } from '../context.js';
import { printList, printObject } from '../output.js';
import { sleep } from '../options.js';

/** Prints a job's log from the start; with follow, keeps tailing until the job has finished. */
export async function tailJobLogs(client: ForjaClient, id: string, follow: boolean, out: (line: string) => void): Promise<void> {
  let after = 0;
  for (;;) {
    const page = await client.jobs.logs(id, { after, limit: 1000 });
    for (const l of page.lines) out(l.stream === 'system' ? `[forja] ${l.line}` : l.line);
    after = page.next;
    if (page.complete || (!follow && page.lines.length < 1000)) return;
    if (page.lines.length < 1000) await sleep(1000);
  }
}

export function registerJobCommands(program: Command): void {
  const jobs = program.command('jobs').description("The group's background jobs: builds, deliveries, batch runs");

  jobs
    .command('list', { isDefault: true })
    .description('Jobs, newest first')
    .option('--status <status>', 'queued | running | succeeded | failed | cancelled')
    .option('--kind <kind>', 'e.g. webhook.deliver')
    .option('--limit <n>', 'how many', '50')
    .option('--json', 'print JSON')
    .action(async (o: { status?: JobStatus; kind?: string; limit: string }, cmd: Command) => {
      const page = await clientFor(cmd).jobs.list({ status: o.status, kind: o.kind, limit: Number(o.limit) });
      printList(
        page.items,
        [
          { header: 'id', value: (j) => j.id },
          { header: 'kind', value: (j) => j.kind },
          { header: 'status', value: (j) => j.status },
          { header: 'attempt', value: (j) => `${j.attempt}/${j.maxAttempts}` },
          { header: 'created', value: (j) => j.createdAt },
          { header: 'error', value: (j) => (j.error ? j.error.split('\n')[0] : '') },
        ],
        jsonOf(cmd),
      );
    });

  jobs
    .command('show <id>')
    .description('A job: status, attempts, worker, result or error')
    .option('--wait', 'wait until it has finished')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { wait?: boolean }, cmd: Command) => {
      const client = clientFor(cmd);
      let job = await client.jobs.get(id);
      while (o.wait && !TERMINAL_JOB_STATUSES.includes(job.status)) job = await client.jobs.get(id, { waitSeconds: 30 });
      if (jsonOf(cmd)) return printObject(job, true);
      printObject(
        {
          id: job.id,
          kind: job.kind,
          status: job.status,
          attempt: `${job.attempt} of ${job.maxAttempts}`,
          worker: job.workerId,
          created: job.createdAt,
          started: job.startedAt,
          finished: job.finishedAt,
          params: job.params,
          result: job.result,
          error: job.error,
        },
        false,
      );
      if (o.wait && job.status !== 'succeeded') process.exitCode = 1;
    });

  jobs
    .command('logs <id>')
    .description("A job's log (stdout, stderr and Forja's own notes)")
    .option('-f, --follow', 'keep printing until the job has finished')
    .action(async (id: string, o: { follow?: boolean }, cmd: Command) => {
      const client = clientFor(cmd);
      await tailJobLogs(client, id, Boolean(o.follow), (line) => process.stdout.write(line + '\n'));
      if (o.follow) {
        const job = await client.jobs.get(id);
        process.stderr.write(`job ${id} ${job.status}${job.error ? `: ${job.error.split('\n')[0]}` : ''}\n`);
        if (job.status !== 'succeeded') process.exitCode = 1;
      }
    });

  jobs
    .command('cancel <id>')
    .description('Cancel a queued job, or stop a running one (its processes are killed)')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const job = await clientFor(cmd).jobs.cancel(id);
      process.stdout.write(job.status === 'cancelled' ? `Job ${id} cancelled.\n` : `Job ${id} is being stopped; its worker kills it within seconds.\n`);
    });

  program
    .command('workers')
    .description('Workers seen in the last day: alive or not, and what each runs')
    .option('--json', 'print JSON')
    .action(async (_o: unknown, cmd: Command) => {
      printList(
        await clientFor(cmd).jobs.workers(),
        [
          { header: 'id', value: (w) => w.id },
          { header: 'mode', value: (w) => w.mode },
          { header: 'alive', value: (w) => (w.alive ? 'yes' : 'no') },
          { header: 'slots', value: (w) => `${w.running.length}/${w.concurrency}` },
          { header: 'running', value: (w) => w.running.join(' ') || '-' },
          { header: 'last seen', value: (w) => w.lastSeenAt },
        ],
        jsonOf(cmd),
      );
    });

  const hooks = program.command('webhooks').description("The group's registry webhooks (group admins)");
  hooks
    .command('list', { isDefault: true })
    .option('--json', 'print JSON')
    .action(async (_o: unknown, cmd: Command) => {
      printList(
        await clientFor(cmd).webhooks.list(),
        [
          { header: 'id', value: (h) => h.id },
          { header: 'name', value: (h) => h.name },
          { header: 'url', value: (h) => h.url },
          { header: 'events', value: (h) => h.events.join(',') },
          { header: 'active', value: (h) => (h.active ? 'yes' : 'no') },
        ],
        jsonOf(cmd),
      );
    });
  hooks
    .command('create <name> <url>')
    .description(`Subscribe a URL; events: ${WEBHOOK_EVENTS.join(', ')}`)
    .requiredOption('--events <list>', 'comma-separated events')
    .option('--secret <secret>', 'your own signing secret (one is generated otherwise)')
    .action(async (name: string, url: string, o: { events: string; secret?: string }, cmd: Command) => {
      const hook = await clientFor(cmd).webhooks.create({
        name,
        url,
        events: o.events.split(',').map((e) => e.trim()) as (typeof WEBHOOK_EVENTS)[number][],
        secret: o.secret,
      });
      process.stdout.write(
        `Webhook ${hook.name} (${hook.id}) created.\nSigning secret (shown once; deliveries carry X-Forja-Signature: sha256=HMAC(secret, "<timestamp>.<body>")):\n${hook.secret}\n`,
      );
    });
  hooks.command('delete <id>').action(async (id: string, _o: unknown, cmd: Command) => {
    await clientFor(cmd).webhooks.delete(id);
    process.stdout.write(`Webhook ${id} deleted.\n`);
  });
  hooks
    .command('ping <id>')
    .description('Send a ping delivery now')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const d = await clientFor(cmd).webhooks.ping(id);
      process.stdout.write(`Ping queued as delivery ${d.id} (job ${d.jobId}); see \`forja webhooks deliveries ${id}\`.\n`);
    });
  hooks
    .command('deliveries <id>')
    .description('Deliveries, newest first, with the status codes the receiver answered')
    .option('--json', 'print JSON')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      printList(
        (await clientFor(cmd).webhooks.deliveries(id)).items,
        [
          { header: 'id', value: (d) => d.id },
          { header: 'event', value: (d) => d.event },
          { header: 'status', value: (d) => d.status },
          { header: 'attempts', value: (d) => d.attempts },
          { header: 'http', value: (d) => d.responseStatus },
          { header: 'at', value: (d) => d.lastAttemptAt ?? d.createdAt },
          { header: 'error', value: (d) => d.error ?? '' },
        ],
        jsonOf(cmd),
      );
    });
}
