import type { FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ZodError } from 'zod';
import { AppError } from '../../errors.js';

/** MLOps Codex's error kinds by HTTP status, as its client reads them (`{"Error": {"Type", "Message"}}`). */
const TYPES: Record<number, string> = {
  400: 'BadInput',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'AlreadyExists',
  413: 'PayloadTooLarge',
  415: 'BadInput',
  429: 'TooManyRequests',
};

export function codexErrorBody(status: number, message: string) {
  return { Error: { Type: TYPES[status] ?? (status >= 500 ? 'InternalError' : 'BadInput'), Message: message } };
}

/** Errors on Codex's wire layer in Codex's shape; the status codes stay Forja's (400/401/403/404/409/…). */
export function codexErrorHandler(error: Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  let status = 500;
  let message = `Internal error. Report request id ${request.id} to your administrator.`;
  if (error instanceof AppError) {
    status = error.status;
    message = error.message;
    if (error.headers) reply.headers(error.headers);
  } else if (error instanceof ZodError) {
    status = 400;
    message = error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  } else if (hasZodFastifySchemaValidationErrors(error)) {
    status = 400;
    message = error.validation.map((v) => `${v.instancePath.replace(/^\//, '').replace(/\//g, '.') || '(root)'}: ${v.message ?? 'invalid'}`).join('; ');
  } else {
    const given = (error as { statusCode?: number }).statusCode;
    if (given && given >= 400 && given < 500) {
      status = given;
      message = error.message;
    } else request.log.error({ err: error, reqId: request.id }, 'unhandled error');
  }
  return reply.status(status).type('application/json').send(codexErrorBody(status, message));
}

/** A form body (`a=1&b=2`) as an object of its fields; a field sent twice keeps its last value. */
export function parseFormBody(_request: FastifyRequest, body: string | Buffer, done: (err: Error | null, body?: unknown) => void): void {
  done(null, Object.fromEntries(new URLSearchParams(body.toString())));
}
