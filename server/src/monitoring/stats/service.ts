import { rename } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { DriftOptionsSchema, type DriftOptions, type DriftReport, type DriftTablesRequest } from '@forja/contracts';
import { requireScopeRole } from '../../auth/access.js';
import type { GroupScope } from '../../auth/principal.js';
import { invalid } from '../../errors.js';
import type { StagedUpload } from '../../http/multipart.js';
import type { LakeService } from '../../lake/service.js';
import { computeDrift, readerOf, type DriftColumn } from './index.js';

/** POST /api/v1/drift: two lake tables of the caller's group, or two uploaded files. */
export class DriftService {
  constructor(private readonly o: { lake: LakeService }) {}

  /** Where uploads are staged (under the lake's temporary folder). */
  get stagingRoot(): string {
    return path.join(this.o.lake.tempDir, 'drift-uploads');
  }

  async tables(scope: GroupScope, req: DriftTablesRequest): Promise<DriftReport> {
    requireScopeRole(scope, 'viewer');
    return this.o.lake.drift(scope.id, req.reference, req.current, req.options as DriftOptions);
  }

  /** Two staged files (Parquet, or CSV by a .csv name) and the options as the JSON text of the `options` field. */
  async files(scope: GroupScope, staged: StagedUpload, dir: string): Promise<DriftReport> {
    requireScopeRole(scope, 'viewer');
    const side = async (role: 'reference' | 'current') => {
      const file = staged.files.find((f) => f.role === role);
      if (!file) throw invalid(`Send the ${role} file as the form field "${role}" (Parquet, or CSV with a header).`);
      // Renamed to a plain name: the sent name may hold characters SQL should never see.
      const target = path.join(dir, `${role}.${file.name.toLowerCase().endsWith('.csv') ? 'csv' : 'parquet'}`);
      await rename(file.path, target);
      return target;
    };
    const reference = await side('reference');
    const current = await side('current');
    let options: unknown = {};
    if (staged.fields.options !== undefined) {
      try {
        options = JSON.parse(staged.fields.options);
      } catch (err) {
        throw invalid(`The options field is not JSON: ${(err as Error).message}.`);
      }
    }
    const parsed = DriftOptionsSchema.safeParse(options);
    if (!parsed.success) throw invalid(`Bad drift options: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`).join('; ')}.`);
    const refCols = await columnsOf(reference, 'reference');
    const curCols = await columnsOf(current, 'current');
    const shared = refCols.filter((c) => curCols.some((d) => d.name === c.name));
    const named = parsed.data.columns;
    if (named) {
      const absent = named.filter((n) => !shared.some((c) => c.name === n));
      if (absent.length) throw invalid(`Columns not in both the reference and the current file: ${absent.join(', ')}.`);
    }
    if (shared.length === 0) throw invalid('The reference and the current file share no column names to compare.');
    return computeDrift(reference, current, shared, parsed.data);
  }
}

/** The columns of an uploaded file; a file DuckDB cannot read is the caller's mistake, named as such. */
async function columnsOf(file: string, role: string): Promise<DriftColumn[]> {
  const db = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false' });
  const c = await db.connect();
  try {
    const rows = (await c.runAndReadAll(`DESCRIBE SELECT * FROM ${readerOf(file)}`)).getRowObjects();
    return rows.map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
  } catch (err) {
    throw invalid(`The ${role} file could not be read as ${file.endsWith('.csv') ? 'CSV' : 'Parquet'}: ${(err as Error).message.split('\n')[0]}`);
  } finally {
    c.closeSync();
    db.closeSync();
  }
}
