import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { PerformanceRequestSchema, type PerformanceReport, type PerformanceRequest } from '@forja/contracts';
import { requireScopeRole } from '../auth/access.js';
import type { GroupScope } from '../auth/principal.js';
import { newId } from '../db/ids.js';
import { invalid } from '../errors.js';
import type { LakeService } from '../lake/service.js';
import { sqlTimestamp } from '../lake/engine.js';
import type { LabelsService } from './labels.js';
import { typeOfValues, writeParquet } from './labels-parquet.js';
import { performanceOf, type PerformanceCheck } from './performance.js';

/**
 * Performance of predictions against labels: of a monitor's window (the logged rows labelled so
 * far), or on demand over rows sent inline or read from a lake table.
 */
export class PerformanceService {
  constructor(private readonly options: { lake: LakeService; labels: LabelsService; tempDir: string }) {}

  /**
   * The monitor run's part: the inference log's rows logged in [start, end) that have labels, each
   * with its latest label. A window without labels reports 0 labelled rows and no metrics.
   */
  async ofWindow(req: { groupId: string; logTable: string; window: { start: number; end: number }; check: PerformanceCheck }): Promise<PerformanceReport> {
    const check = req.check;
    const predictionColumn = check.predictionColumn ?? 'prediction';
    await mkdir(this.options.tempDir, { recursive: true });
    const file = path.join(this.options.tempDir, `${newId()}.parquet`);
    try {
      const filter = `logged_at >= '${sqlTimestamp(req.window.start)}' AND logged_at < '${sqlTimestamp(req.window.end)}'`;
      const columns = [predictionColumn, ...(check.scoreColumn ? [check.scoreColumn] : [])];
      const rows = await this.options.labels.labelled(req.groupId, req.logTable, { filter, columns }, file);
      if (rows === 0) return { task: check.task, labelledRows: 0, metrics: {}, baseline: check.baseline ?? null, degraded: [] };
      return await performanceOf(file, check);
    } finally {
      await rm(file, { force: true });
    }
  }

  async compute(scope: GroupScope, input: PerformanceRequest): Promise<PerformanceReport> {
    requireScopeRole(scope, 'viewer');
    const body = PerformanceRequestSchema.parse(input);
    if ('table' in body) {
      const { table, filter, labelColumn, ...check } = body;
      const columns = [check.predictionColumn, labelColumn, ...(check.scoreColumn ? [check.scoreColumn] : [])];
      const out = await this.options.lake.export(scope, table, { filter, columns }, 'parquet');
      try {
        return await performanceOf(out.file, check, null, labelColumn);
      } finally {
        await rm(out.file, { force: true });
      }
    }
    const { prediction, label, score, ...check } = body;
    const lengths = { prediction: prediction.length, label: label.length, ...(score ? { score: score.length } : {}) };
    if (new Set(Object.values(lengths)).size > 1)
      throw invalid(
        `prediction, label${score ? ' and score' : ''} must have one value per row: got ${Object.entries(lengths)
          .map(([k, n]) => `${n} ${k}`)
          .join(', ')}.`,
      );
    await mkdir(this.options.tempDir, { recursive: true });
    const file = path.join(this.options.tempDir, `${newId()}.parquet`);
    try {
      await writeParquet(file, [
        { name: 'prediction', type: typeOfValues(prediction), values: prediction },
        { name: 'label', type: typeOfValues(label), values: label },
        ...(score ? [{ name: 'score', type: 'DOUBLE' as const, values: score }] : []),
      ]);
      return await performanceOf(file, check);
    } finally {
      await rm(file, { force: true });
    }
  }
}
