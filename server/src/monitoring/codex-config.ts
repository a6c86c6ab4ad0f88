import type { CodexMonitorCreateSchema, MonitorCreate, MonitorPeriod, MonitorReference } from '@forja/contracts';
import type { z } from 'zod';
import { invalid } from '../errors.js';
import { quoteIdent } from '../lake/engine.js';

/** Codex's Period as Forja's: a yearly look is too late to act on, so Year runs month by month. */
export const CODEX_PERIODS: Record<'Day' | 'Week' | 'Month' | 'Year', MonitorPeriod> = { Day: 'day', Week: 'week', Month: 'month', Year: 'month' };

/**
 * The monitor MLOps Codex's configuration.json describes (parsed by CodexMonitorCreateSchema): its
 * reference from TrainData (a training run, or the given lake table's rows dated before
 * TrainDateRef), InputCols and OutputCols as its columns. `uploaded`: the training data comes as a
 * file with the request, so no reference is needed here.
 */
export function monitorOfCodex(body: z.output<typeof CodexMonitorCreateSchema>, uploaded: boolean): MonitorCreate {
  const config = body.configuration;
  const train = config.TrainData;
  let reference: MonitorReference | undefined = body.reference;
  if (train.MLOpsTrainingExecution) reference ??= { kind: 'training', trainingId: train.MLOpsTrainingExecution };
  if (!reference && !uploaded)
    throw invalid(
      'TrainData names no MLOpsTrainingExecution: send the training data as "reference" (a lake table, a run or a training run) or upload it with the form as the "reference" file.',
    );
  if (reference && (train.TrainDateCol || train.TrainDateRef)) {
    if (!train.TrainDateCol || !train.TrainDateRef) throw invalid('TrainData needs both TrainDateCol and TrainDateRef to pick the training rows by date.');
    if (reference.kind !== 'table') throw invalid('TrainDateCol and TrainDateRef pick rows of a lake table: give the reference as {"kind": "table", …}.');
    const dated = `${quoteIdent(train.TrainDateCol)} < '${train.TrainDateRef.replace(/'/g, "''")}'`;
    reference = { ...reference, filter: reference.filter ? `(${reference.filter}) AND ${dated}` : dated };
  }
  return {
    name: body.name,
    description: body.description,
    target: { deployment: body.deployment },
    inputColumns: config.InputCols,
    outputColumns: config.OutputCols,
    checks: body.checks,
    period: CODEX_PERIODS[config.Period],
    scheduled: body.scheduled,
    ...(reference && !uploaded ? { reference } : {}),
  };
}
