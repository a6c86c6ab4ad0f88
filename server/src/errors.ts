import { ErrorCodes, type ErrorCode, type FieldIssue } from '@forja/contracts';
import type { z } from 'zod';

/**
 * The one error type every layer throws. It carries what the client needs: a stable code,
 * the HTTP status that code maps to, and a message that says what to change.
 */
export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'AppError';
    this.status = ErrorCodes[code];
  }
}

export const invalid = (message: string, issues?: FieldIssue[]) => new AppError('INVALID_ARGUMENT', message, issues ? { issues } : undefined);
export const unauthenticated = (message: string) => new AppError('UNAUTHENTICATED', message, undefined, { 'www-authenticate': 'Bearer realm="forja"' });
export const forbidden = (message: string) => new AppError('PERMISSION_DENIED', message);
/** details name the resource, so the MLflow API can say it in MLflow's words ("Run with id=… not found"). */
export const notFound = (what: string, id: string) => new AppError('NOT_FOUND', `${what} '${id}' does not exist or you cannot see it.`, { resource: what, id });
export const alreadyExists = (message: string) => new AppError('ALREADY_EXISTS', message);
export const conflict = (message: string) => new AppError('CONFLICT', message);
export const rateLimited = (retryAfterSeconds: number, message: string) =>
  new AppError('RATE_LIMITED', message, { retryAfterSeconds }, { 'retry-after': String(retryAfterSeconds) });

/**
 * Parses one input with its contract schema; a bad value is a 400 naming the field as the caller
 * sent it (`run_name`, `tags.1.key`), for inputs that reach a service without a route schema.
 */
export function parseField<S extends z.ZodTypeAny>(schema: S, value: unknown, field: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const where = [field, ...issue.path].join('.');
  throw invalid(`Invalid value for parameter '${where}': ${issue.message}.`, [{ path: where, message: issue.message }]);
}
