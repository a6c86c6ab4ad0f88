import { z } from 'zod';
import type { Monitor, MonitorRun } from '@forja/contracts';
import { AppError } from '../errors.js';
import { groupOf } from '../http/auth-hooks.js';
import { attachment } from '../http/content-disposition.js';
import { contentResponse } from '../http/openapi.js';
import type { App } from '../http/types.js';
import { renderRunReport } from './report.js';

type Scope = ReturnType<typeof groupOf>;
/** What the report needs of the monitors service: a monitor and one of its runs, both access-checked in the caller's group. */
export interface MonitorRunReader {
  get(scope: Scope, idOrName: string): Promise<Monitor>;
  run(scope: Scope, idOrName: string, runId: string): Promise<MonitorRun>;
}

const Params = z.object({ id: z.string().min(1).max(200), runId: z.string().min(1).max(40) }).strict();

export function registerMonitorReportRoutes(app: App, s: { monitors: MonitorRunReader }, clock: () => number = Date.now): void {
  app.get(
    '/api/v1/monitors/:id/runs/:runId/report.html',
    {
      config: { auth: { group: 'viewer' } },
      schema: {
        tags: ['monitoring'],
        summary: "One run's shareable report: a single HTML file with its charts inline (no script, nothing fetched)",
        params: Params,
        querystring: z.object({ group: z.string().optional() }).strict(),
        response: { 200: contentResponse('The report, as an HTML attachment', { 'text/html': z.string() }) },
      },
    },
    async (req, reply) => {
      const scope = groupOf(req);
      const [monitor, run] = await Promise.all([s.monitors.get(scope, req.params.id), s.monitors.run(scope, req.params.id, req.params.runId)]);
      if (run.status === 'queued' || run.status === 'running')
        throw new AppError('CONFLICT', `Run ${run.id} is still ${run.status}: its report can be exported once it has finished.`);
      return (
        reply
          .type('text/html; charset=utf-8')
          .header('content-disposition', attachment(`${monitor.name}-${run.id}.html`))
          // Opened from the server, the report still may not run or fetch anything.
          .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
          .send(renderRunReport(monitor, run, clock()))
      );
    },
  );
}
