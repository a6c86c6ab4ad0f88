import { ErrorCodes, type ErrorCode, type FieldIssue } from '@forja/contracts';

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

export const invalid = (message: string, issues?: FieldIssue[]) =>
  new AppError('INVALID_ARGUMENT', message, issues ? { issues } : undefined);
export const unauthenticated = (message: string) => new AppError('UNAUTHENTICATED', message, undefined, { 'www-authenticate': 'Bearer realm="forja"' });
export const forbidden = (message: string) => new AppError('PERMISSION_DENIED', message);
export const notFound = (what: string, id: string) => new AppError('NOT_FOUND', `${what} '${id}' does not exist or you cannot see it.`);
export const alreadyExists = (message: string) => new AppError('ALREADY_EXISTS', message);
export const conflict = (message: string) => new AppError('CONFLICT', message);
export const rateLimited = (retryAfterSeconds: number, message: string) =>
  new AppError('RATE_LIMITED', message, { retryAfterSeconds }, { 'retry-after': String(retryAfterSeconds) });
