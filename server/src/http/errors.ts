import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ZodError } from 'zod';
import type { ErrorBody, ErrorCode, FieldIssue } from '@forja/contracts';
import { AppError } from '../errors.js';

function send(reply: FastifyReply, request: FastifyRequest, status: number, code: ErrorCode, message: string, details?: unknown): FastifyReply {
  const body: ErrorBody = { error: { code, message, requestId: request.id, ...(details === undefined ? {} : { details }) } };
  return reply.status(status).type('application/json; charset=utf-8').send(body);
}

const issuesMessage = (issues: FieldIssue[]) =>
  issues
    .slice(0, 5)
    .map((i) => `${i.path || '(root)'}: ${i.message}`)
    .join('; ');

const FASTIFY_CODES: Record<string, [number, ErrorCode, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'PAYLOAD_TOO_LARGE', 'The request body is larger than this endpoint accepts.'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported Content-Type; send application/json.'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'MALFORMED_REQUEST', 'The body is empty but Content-Type says JSON; send a JSON document.'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'MALFORMED_REQUEST', 'Content-Length does not match the body.'],
};

/** The one place errors become responses; a 5xx is logged with the request id and never shows a stack. */
export function errorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof AppError) {
    if (error.headers) reply.headers(error.headers);
    return send(reply, request, error.status, error.code, error.message, error.details);
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const where = (error as { validationContext?: string }).validationContext ?? 'body';
    const issues: FieldIssue[] = error.validation.map((v) => ({
      path: [where, ...v.instancePath.split('/').filter(Boolean)].join('.'),
      message: v.message ?? 'invalid',
    }));
    return send(reply, request, 400, 'INVALID_ARGUMENT', `Invalid request: ${issuesMessage(issues)}`, { issues });
  }
  if (error instanceof ZodError) {
    const issues = error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    return send(reply, request, 400, 'INVALID_ARGUMENT', `Invalid request: ${issuesMessage(issues)}`, { issues });
  }
  const fe = error as FastifyError;
  const known = fe.code ? FASTIFY_CODES[fe.code] : undefined;
  if (known) return send(reply, request, known[0], known[1], known[2]);
  if (error instanceof SyntaxError && fe.statusCode === 400) {
    return send(reply, request, 400, 'MALFORMED_REQUEST', `The body is not valid JSON: ${error.message}`);
  }
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    const code: ErrorCode =
      fe.statusCode === 404 ? 'NOT_FOUND' : fe.statusCode === 429 ? 'RATE_LIMITED' : fe.statusCode === 413 ? 'PAYLOAD_TOO_LARGE' : 'MALFORMED_REQUEST';
    return send(reply, request, fe.statusCode, code, fe.message);
  }
  request.log.error({ err: error, reqId: request.id }, 'unhandled error');
  return send(reply, request, 500, 'INTERNAL', `Internal error. Report request id ${request.id} to your administrator.`);
}
