import type { FastifyRequest } from 'fastify';
import { AppError, invalid } from '../../errors.js';
import { partsOf } from '../../http/multipart.js';

/** A small multipart form read whole: DHuolib's chunks (10 MiB) and CSV files are held in memory. */
export interface SmallForm {
  fields: Record<string, string>;
  /** Files by field name, with the file name the client gave (dhuolib sends a local path there). */
  files: Map<string, { filename: string; bytes: Buffer }>;
}

/**
 * Reads a multipart form whose files are at most `maxFileBytes` each; a bigger one is refused
 * naming `tooLarge`. dhuolib also sends a text field under a file's name (predict_online's
 * `data`): both are kept.
 */
export async function readSmallForm(req: FastifyRequest, maxFileBytes: number, tooLarge: string): Promise<SmallForm> {
  if (!req.isMultipart()) throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send multipart/form-data, as dhuolib does.');
  const form: SmallForm = { fields: {}, files: new Map() };
  for await (const part of partsOf(req)) {
    if (part.type === 'field') {
      form.fields[part.fieldname] = String(part.value);
      continue;
    }
    if (form.files.has(part.fieldname)) {
      part.file.resume();
      throw invalid(`Send one file in the "${part.fieldname}" part.`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of part.file as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxFileBytes) {
        part.file.resume();
        throw new AppError('PAYLOAD_TOO_LARGE', tooLarge);
      }
      chunks.push(chunk);
    }
    form.files.set(part.fieldname, { filename: part.filename, bytes: Buffer.concat(chunks) });
  }
  return form;
}
