import { DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import type { LakeColumn } from '@forja/contracts';
import { fileLiteral, quoteIdent, typeFamily } from './engine.js';

/** Shares of an empty bin: the industry convention, so a bin present on one side only stays finite. */
export const PSI_EPSILON = 1e-4;
const DECILES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

export interface ColumnDrift {
  column: string;
  psi: number;
  /** "deciles" for numbers (reference deciles, outer edges open), "categories" otherwise. */
  binning: 'deciles' | 'categories';
  bins: number;
}

/**
 * The population stability index of each column between a reference and a current sample (two
 * Parquet files): PSI = Σ (refᵢ − curᵢ)·ln(refᵢ/curᵢ), numbers binned by the reference's deciles
 * (tied edges merged, outer edges open), other columns by value; empty bins get ε = 1e-4. NULLs are
 * left out of both sides.
 */
export async function populationStability(reference: string, current: string, columns: LakeColumn[]): Promise<ColumnDrift[]> {
  const db = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false' });
  const c = await db.connect();
  const all = async (sql: string, params: DuckDBValue[] = []) => (await c.runAndReadAll(sql, params)).getRowObjects();
  try {
    const out: ColumnDrift[] = [];
    for (const col of columns) {
      const q = quoteIdent(col.name);
      const numeric = typeFamily(col.type) === 'integer' || typeFamily(col.type) === 'float';
      let key: string;
      let params: DuckDBValue[] = [];
      let bins: number;
      if (numeric) {
        const [row] = await all(
          `SELECT quantile_cont(CAST(${q} AS DOUBLE), [${DECILES.join(', ')}]) AS edges FROM read_parquet(${fileLiteral(reference)}) WHERE ${q} IS NOT NULL`,
        );
        const raw = (row?.edges as { items?: unknown[] } | null)?.items ?? [];
        const edges = [...new Set(raw.map(Number).filter(Number.isFinite))].sort((a, b) => a - b);
        params = edges;
        // Bin i holds values below edge i; the last bin holds the rest.
        key = edges.length ? `CASE ${edges.map((_, i) => `WHEN CAST(${q} AS DOUBLE) < $${i + 1} THEN '${i}'`).join(' ')} ELSE '${edges.length}' END` : `'0'`;
        bins = edges.length + 1;
      } else {
        key = `CAST(${q} AS VARCHAR)`;
        bins = 0;
      }
      const shares = async (file: string) => {
        const rows = await all(`SELECT ${key} AS bin, count(*) AS n FROM read_parquet(${fileLiteral(file)}) WHERE ${q} IS NOT NULL GROUP BY 1`, params);
        const total = rows.reduce((s, r) => s + Number(r.n), 0);
        return new Map(rows.map((r) => [String(r.bin), total ? Number(r.n) / total : 0]));
      };
      const ref = await shares(reference);
      const cur = await shares(current);
      const keys = new Set([...ref.keys(), ...cur.keys()]);
      let psi = 0;
      for (const k of keys) {
        const r = Math.max(ref.get(k) ?? 0, PSI_EPSILON);
        const s = Math.max(cur.get(k) ?? 0, PSI_EPSILON);
        psi += (r - s) * Math.log(r / s);
      }
      out.push({ column: col.name, psi, binning: numeric ? 'deciles' : 'categories', bins: numeric ? bins : keys.size });
    }
    return out;
  } finally {
    c.closeSync();
    db.closeSync();
  }
}
