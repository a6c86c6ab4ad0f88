import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import multipart from '@fastify/multipart';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { DriftReportSchema, DriftTablesRequestSchema, DriftUploadFormSchema } from '@forja/contracts';
import { newId } from '../db/ids.js';
import { parseField } from '../errors.js';
import { groupOf } from '../http/auth-hooks.js';
import { stageUpload } from '../http/multipart.js';
import type { App } from '../http/types.js';
import type { DriftService } from './stats/service.js';

const UPLOAD_FILE_LIMIT = 2 * 1024 * 1024 * 1024;

/** POST /api/v1/drift: JSON names two lake tables; multipart/form-data sends two files. One route, one report shape. */
export function registerDriftRoutes(app: App, s: { drift: DriftService }): void {
  app.register(async (plain) => {
    const scope = plain.withTypeProvider<ZodTypeProvider>();
    await scope.register(multipart, { limits: { fileSize: UPLOAD_FILE_LIMIT, files: 2, fields: 5, fieldSize: 1_000_000 } });
    scope.post(
      '/api/v1/drift',
      {
        config: { auth: { group: 'viewer' } },
        schema: {
          tags: ['monitoring'],
          summary:
            'Drift per column between a reference and a current sample: two lake tables of your group (JSON, filter and VERSION each) or two uploaded files (multipart: reference, current, options)',
          streamedBody: { 'application/json': DriftTablesRequestSchema, 'multipart/form-data': DriftUploadFormSchema },
          response: { 200: DriftReportSchema },
        },
      },
      async (req) => {
        if (!req.isMultipart()) return s.drift.tables(groupOf(req), parseField(DriftTablesRequestSchema, req.body ?? {}, 'body'));
        const dir = path.join(s.drift.stagingRoot, newId());
        await mkdir(dir, { recursive: true });
        try {
          const staged = await stageUpload(req, dir, ['reference', 'current']);
          return await s.drift.files(groupOf(req), staged, dir);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
    );
  });
}
