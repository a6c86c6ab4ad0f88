import type { ErrorCode } from '@forja/contracts';

/** An error answer from the server, with its code, status and request id. */
export class ForjaApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode | string,
    message: string,
    readonly details?: unknown,
    readonly requestId?: string,
  ) {
    super(message);
    this.name = 'ForjaApiError';
  }

  /** Picks the subclass for the status, so callers can catch by kind. */
  static from(status: number, code: string, message: string, details?: unknown, requestId?: string): ForjaApiError {
    const Kind =
      status === 400
        ? InvalidArgumentError
        : status === 401
          ? UnauthenticatedError
          : status === 403
            ? PermissionDeniedError
            : status === 404
              ? NotFoundError
              : status === 409
                ? ConflictError
                : status === 429
                  ? RateLimitedError
                  : ForjaApiError;
    return new Kind(status, code, message, details, requestId);
  }
}
export class InvalidArgumentError extends ForjaApiError {}
export class UnauthenticatedError extends ForjaApiError {}
export class PermissionDeniedError extends ForjaApiError {}
export class NotFoundError extends ForjaApiError {}
export class ConflictError extends ForjaApiError {}
export class RateLimitedError extends ForjaApiError {}

/** The server could not be reached at all. */
export class ForjaConnectionError extends Error {
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    super(`Cannot reach Forja at ${url}: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'ForjaConnectionError';
  }
}
