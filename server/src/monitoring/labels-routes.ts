import { z } from 'zod';
import { LabelsPostSchema, LabelsResultSchema } from '@forja/contracts';
import { contextOf, groupOf } from '../http/auth-hooks.js';
import type { App } from '../http/types.js';
import type { LabelsService } from './labels.js';

const Params = z.object({ id: z.string().min(1).max(200) }).strict();

export function registerLabelRoutes(app: App, s: { labels: LabelsService }): void {
  app.post(
    '/api/v1/deployments/:id/labels',
    {
      config: { auth: { group: 'editor' } },
      schema: {
        tags: ['monitoring'],
        summary:
          'Post ground truth for logged predictions: by request id and row, by a key column of the logged inputs, or from a lake table; unknown ids are a 400 naming them, a newer label of a row replaces the older',
        params: Params,
        body: LabelsPostSchema,
        response: { 200: LabelsResultSchema },
      },
    },
    async (req) => s.labels.post(contextOf(req), groupOf(req), req.params.id, req.body),
  );
}
