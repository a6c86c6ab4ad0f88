import { z } from 'zod';

/** Every error code the native API returns; the HTTP status travels with it. */
export const ErrorCodes = {
  INVALID_ARGUMENT: 400,
  MALFORMED_REQUEST: 400,
  /** The model's own code raised; the message names its exception. */
  MODEL_ERROR: 422,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  ALREADY_EXISTS: 409,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  TIMEOUT: 504,
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export const ErrorCodeSchema = z.enum(Object.keys(ErrorCodes) as [ErrorCode, ...ErrorCode[]]);

export const FieldIssueSchema = z.object({
  path: z.string().describe('Dotted path of the offending field, e.g. "body.members.0.role"'),
  message: z.string(),
});
export type FieldIssue = z.infer<typeof FieldIssueSchema>;

/** Every error response of the native API; registered as the "ErrorBody" component of the OpenAPI document. */
export const ErrorBodySchema = z
  .object({
    error: z.object({
      code: ErrorCodeSchema,
      message: z.string().describe('What went wrong and what to change'),
      details: z.unknown().optional().describe('For INVALID_ARGUMENT: {"issues": [{"path", "message"}]}'),
      requestId: z.string().optional().describe('The x-request-id of the request, to find it in the server log'),
    }),
  })
  .meta({ id: 'ErrorBody', description: 'An error: a stable code, a message a user can act on, and details' });
export type ErrorBody = z.infer<typeof ErrorBodySchema>;
