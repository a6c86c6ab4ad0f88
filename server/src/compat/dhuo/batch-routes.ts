import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BatchDeploy, BatchRun } from '@forja/contracts';
import { z } from 'zod';
import { newId } from '../../db/ids.js';
import { AppError, invalid, notFound } from '../../errors.js';
import { contextOf, groupOf } from '../../http/auth-hooks.js';
import type { StagedUpload } from '../../http/multipart.js';
import { editor, viewer, type DhuoDeps, type DhuoRoute } from './route.js';
import { bodyOf, required } from './wire.js';

const Project = z.object({ project_name: required('project_name') });
const Deploy = Project.extend({ run_script_content: z.string({ error: 'run_script_content is required' }), requirements_content: z.string().default('') });
const Cluster = Project.extend({
  cluster_size: z.union([z.literal(1), z.literal(2), z.literal(3)], { error: 'cluster_size must be 1 (small), 2 (medium) or 3 (large)' }),
});
const Schedule = Project.extend({ schedule_interval: required('schedule_interval') });

/** DHuolib's deploy report: what pipeline_status_report lists, newest first. */
const DEPLOY_STATUS: Record<BatchDeploy['status'], string> = {
  Building: 'DEPLOY IN PROGRESS',
  Ready: 'DEPLOY COMPLETED SUCCESSFULLY',
  Failed: 'DEPLOY FAILED',
};

/**
 * DHuolib's batch platform (create_batch_project … remove_schedule) onto Forja's batch projects,
 * deploys, cluster profiles, runs and schedules. Answers carry `code` as DHuolib's did (its older
 * helpers check `code == 201`).
 */
export function registerDhuoBatchRoutes(route: DhuoRoute, d: DhuoDeps): void {
  const b = d.batch;

  // An existing project is a 400: dhuolib turns exactly that status into "Project already exists".
  route('POST', 'project', editor, async (req, reply) => {
    const { project_name } = bodyOf(req, Project);
    try {
      const project = await b.createProject(contextOf(req), groupOf(req), { name: project_name });
      return reply.code(201).send({ code: 201, status: 'created', project_id: project.id, project_name: project.name });
    } catch (err) {
      if (err instanceof AppError && err.code === 'ALREADY_EXISTS') throw invalid(`Project already exists: ${err.message}`);
      throw err;
    }
  });

  // The script and requirements come base64-encoded; the script is deployed as script.py, DHuolib's name for it.
  route('POST', 'deploy', editor, async (req, reply) => {
    const body = bodyOf(req, Deploy);
    const script = decodeBase64(body.run_script_content, 'run_script_content');
    if (script.length === 0) throw invalid('run_script_content is empty: send the batch script, base64-encoded.');
    const requirements = decodeBase64(body.requirements_content, 'requirements_content');
    const staging = path.join(b.root, '.staging', newId());
    try {
      await b.requireProject(groupOf(req), body.project_name);
      await mkdir(staging, { recursive: true });
      const staged: StagedUpload = { fields: {}, files: [] };
      for (const [role, name, bytes] of [
        ['source', 'script.py', script],
        ['requirements', 'requirements.txt', requirements],
      ] as const) {
        const file = path.join(staging, name);
        await writeFile(file, bytes);
        staged.files.push({ role, name, path: file, size: bytes.length });
      }
      const { deploy, buildJobId } = await b.deploy(contextOf(req), groupOf(req), body.project_name, staged, staging);
      return reply.code(201).send({
        code: 201,
        message: `Deploy v${deploy.version} of ${body.project_name} is building; pipeline_status_report says when it is ready.`,
        project_name: body.project_name,
        version: deploy.version,
        status: DEPLOY_STATUS[deploy.status],
        build_job_id: buildJobId,
      });
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  });

  route('GET', 'deploy/:project', viewer, async (req) => {
    const name = (req.params as { project: string }).project;
    const scope = groupOf(req);
    const [deploys, runs] = await Promise.all([b.deploys(scope, name), b.runs(scope, name)]);
    const rows = [...deploys.map(deployLog), ...runs.map(runLog)].sort((x, y) => y.at - x.at);
    return { project_name: name, data: rows.map(({ at, ...row }) => ({ date_log: new Date(at).toISOString(), ...row })) };
  });

  route('POST', 'cluster', editor, async (req, reply) => {
    const body = bodyOf(req, Cluster);
    const project = await b.updateProject(contextOf(req), groupOf(req), body.project_name, { clusterSize: body.cluster_size });
    return reply.code(201).send({ code: 201, message: `${project.name} runs on cluster size ${project.clusterSize}.`, cluster_size: project.clusterSize });
  });

  route('POST', 'cluster/run', editor, async (req, reply) => {
    const { project_name } = bodyOf(req, Project);
    const run = await b.run(contextOf(req), groupOf(req), project_name, {});
    return reply
      .code(201)
      .send({ code: 201, message: `Run ${run.id} of ${project_name} v${run.version} is ${run.status}.`, run_id: run.id, status: run.status });
  });

  // DHuolib keeps one schedule per project: a second schedule_batch_run changes it.
  route('POST', 'cluster/schedule', editor, async (req, reply) => {
    const body = bodyOf(req, Schedule);
    const ctx = contextOf(req);
    const scope = groupOf(req);
    await b.requireProject(scope, body.project_name);
    const [existing] = await d.schedules.list(scope, body.project_name);
    const schedule = existing
      ? await d.schedules.update(ctx, scope, existing.id, { cron: body.schedule_interval })
      : await d.schedules.create(ctx, scope, body.project_name, { cron: body.schedule_interval });
    return reply.code(201).send({
      code: 201,
      message: `${body.project_name} runs on "${schedule.cron}" (${schedule.timezone}).`,
      schedule_id: schedule.id,
      schedule_interval: schedule.cron,
      next_run: schedule.nextFireTimes[0] === undefined ? null : new Date(schedule.nextFireTimes[0]).toISOString(),
    });
  });

  route('DELETE', 'cluster/schedule/:project', editor, async (req) => {
    const name = (req.params as { project: string }).project;
    const ctx = contextOf(req);
    const scope = groupOf(req);
    await b.requireProject(scope, name);
    const schedules = await d.schedules.list(scope, name);
    if (schedules.length === 0) throw notFound('Schedule of project', name);
    for (const s of schedules) await d.schedules.remove(ctx, scope, s.id);
    return { code: 200, message: `The schedule of ${name} is removed.`, removed: schedules.length };
  });
}

/** Strict base64 (whitespace and line breaks allowed): anything else is a 400 naming the field. */
function decodeBase64(text: string, field: string): Buffer {
  const compact = text.replace(/\s+/g, '');
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact))
    throw invalid(`${field} is not base64: send the file's bytes base64-encoded (base64.b64encode), as dhuolib does.`, [
      { path: field, message: 'not base64' },
    ]);
  return Buffer.from(compact, 'base64');
}

const deployLog = (x: BatchDeploy) => ({
  at: x.createdAt,
  step: `DEPLOY v${x.version}`,
  status: x.status === 'Failed' && x.message ? `${DEPLOY_STATUS.Failed}: ${x.message}` : DEPLOY_STATUS[x.status],
});

const runLog = (r: BatchRun) => ({
  at: r.finishedAt ?? r.startedAt ?? r.createdAt,
  step: `RUN ${r.id} (v${r.version}, ${r.trigger})`,
  status: `RUN ${r.status.toUpperCase()}${r.error ? `: ${r.error}` : ''}`,
});
