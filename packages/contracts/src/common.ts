import { z } from 'zod';

/** Milliseconds since the Unix epoch, UTC. */
export const TimestampSchema = z.number().int().nonnegative();

/** Ids the server generates: lowercase letters and digits, sortable by creation time. */
export const IdSchema = z.string().regex(/^[a-z0-9]{8,40}$/, 'must be an id issued by Forja (lowercase letters and digits)');

/** Names of groups and users: what appears in URLs, so kept to a safe alphabet. */
export const SlugSchema = z
  .string()
  .min(2, 'must be at least 2 characters')
  .max(63, 'must be at most 63 characters')
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'must start with a lowercase letter or digit and use only a-z, 0-9, ".", "_" and "-"');

export const PageQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    pageToken: z.string().max(200).optional(),
  })
  .strict();

export const pageOf = <T extends z.ZodTypeAny>(item: T) => z.object({ items: z.array(item), nextPageToken: z.string().optional() });

export const OkSchema = z.object({ ok: z.literal(true) });

/**
 * Bytes sent as a file: one part of a multipart form, or a whole raw body. The OpenAPI document
 * shows it as a binary string; the server streams it to disk instead of parsing it.
 */
export const FileSchema = z.file();

/** A CSV body: a header row, then one line per row. */
export const CsvBodySchema = z.string().describe('CSV text with a header row');
/** A Parquet body: the whole file. */
export const ParquetBodySchema = FileSchema.describe('An Apache Parquet file');
