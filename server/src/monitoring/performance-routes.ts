import { PerformanceReportSchema, PerformanceRequestSchema } from '@forja/contracts';
import { groupOf } from '../http/auth-hooks.js';
import type { App } from '../http/types.js';
import type { PerformanceService } from './performance-service.js';

export function registerPerformanceRoutes(app: App, s: { performance: PerformanceService }): void {
  app.post(
    '/api/v1/performance',
    {
      config: { auth: { group: 'viewer' } },
      schema: {
        tags: ['monitoring'],
        summary:
          'Classifier (accuracy, precision, recall, F1, ROC AUC, log-loss) or regressor (MAE, RMSE, R²) metrics of predictions against labels, inline or from a lake table, compared with a baseline',
        body: PerformanceRequestSchema,
        response: { 200: PerformanceReportSchema },
      },
    },
    async (req) => s.performance.compute(groupOf(req), req.body),
  );
}
