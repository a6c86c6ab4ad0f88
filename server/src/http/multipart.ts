import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { FastifyRequest } from 'fastify';
import type {} from '@fastify/multipart';
import { AppError, invalid } from '../errors.js';

export type FileRole =
  | 'source'
  | 'model'
  | 'requirements'
  | 'schema'
  | 'env'
  | 'extra'
  | 'input'
  | 'data'
  | 'definition'
  | 'file'
  | 'preprocess'
  | 'configuration'
  | 'reference'
  | 'current'
  // MLOps Codex's training upload
  | 'train_data'
  | 'conf_dict'
  | 'features'
  | 'target'
  | 'output'
  | 'parameters'
  | 'metrics';
/** Roles a form may send many files under. */
const REPEATABLE: readonly FileRole[] = ['extra', 'file'];

export interface StagedFile {
  role: FileRole;
  name: string;
  path: string;
  size: number;
}

export interface StagedUpload {
  fields: Record<string, string>;
  files: StagedFile[];
}

/** A file name as sent: only a plain name is accepted, never a path (no "/", "\\", ".." or hidden files). */
export function safeFileName(name: string): string {
  if (!name || name.length > 255 || /[/\\\0\p{Cc}]/u.test(name) || name.startsWith('.') || name === '..')
    throw invalid(`Invalid file name "${name.slice(0, 100)}": send a plain file name, without folders, "..", or a leading dot.`);
  return name;
}

/**
 * What the multipart parser throws on a broken form (no boundary, a part cut short) is the
 * client's mistake; errors of our own (AppError), the plugin's limits (with a status) and the
 * disk's (with a syscall) keep their meaning.
 */
function brokenForm(err: unknown): unknown {
  if (err instanceof AppError || !(err instanceof Error) || 'statusCode' in err || 'syscall' in err) return err;
  return new AppError('MALFORMED_REQUEST', `The multipart form could not be read (${err.message}); let your HTTP client build it, boundary included.`);
}

/**
 * The parts of the request's form; what the parser throws comes out as brokenForm says. A file
 * cut short by the end of the body can reach us already torn down (no error, no end): its stream
 * would never finish, so it is refused here instead of hanging the request.
 */
export async function* partsOf(req: FastifyRequest) {
  try {
    for await (const part of req.parts()) {
      if (part.type === 'file' && part.file.readableAborted)
        throw new AppError('MALFORMED_REQUEST', `The form ends inside the file "${part.filename.slice(0, 100)}": send the whole form.`);
      yield part;
    }
  } catch (err) {
    throw brokenForm(err);
  }
}

/**
 * Streams a multipart upload to a staging folder: files by role (one each, `extra`
 * and `file` repeatable), text fields kept as strings for the schema to check.
 */
export async function stageUpload(req: FastifyRequest, dir: string, roles: readonly FileRole[]): Promise<StagedUpload> {
  if (!req.isMultipart())
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', `Send multipart/form-data with the file field${roles.length > 1 ? 's' : ''} ${roles.join(', ')}.`);
  await mkdir(dir, { recursive: true });
  const fields: Record<string, string> = {};
  const files: StagedFile[] = [];
  const seen = new Set<string>();
  for await (const part of partsOf(req)) {
    if (part.type === 'field') {
      fields[part.fieldname] = String(part.value);
      continue;
    }
    const role = part.fieldname as FileRole;
    if (!roles.includes(role)) {
      part.file.resume();
      throw invalid(`Unknown file field "${part.fieldname}": use ${roles.join(', ')}.`);
    }
    if (!REPEATABLE.includes(role) && files.some((f) => f.role === role)) {
      part.file.resume();
      throw invalid(`Send one "${role}" file.`);
    }
    let name: string;
    try {
      // The secrets file is read and removed, never kept under its own name (".env" is the usual one).
      name = role === 'env' ? '.forja-secrets.env' : safeFileName(part.filename);
    } catch (err) {
      part.file.resume();
      throw err;
    }
    if (seen.has(name)) {
      part.file.resume();
      throw invalid(`Two files are named "${name}".`);
    }
    seen.add(name);
    const target = path.join(dir, name);
    await pipeline(part.file, createWriteStream(target)).catch((err: unknown) => {
      throw brokenForm(err);
    });
    if (part.file.truncated) throw new AppError('PAYLOAD_TOO_LARGE', `"${name}" is larger than the upload limit.`);
    files.push({ role, name, path: target, size: part.file.bytesRead });
  }
  return { fields, files };
}
