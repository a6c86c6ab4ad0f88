import type { FastifySchema, RouteOptions } from 'fastify';
import swagger, { type SwaggerTransform, type SwaggerTransformObject } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { ErrorBodySchema, ErrorCodes, type ErrorCode } from '@forja/contracts';
import type { App, AuthRequirement } from './types.js';

declare module 'fastify' {
  interface FastifySchema {
    /**
     * A body the handler reads itself — a multipart form, or raw bytes streamed to disk — by content
     * type. It is published in the OpenAPI document only: Fastify never parses or validates it.
     */
    streamedBody?: Record<string, z.ZodType>;
    /** Error statuses this route answers with beyond the ones every route of its kind does (defaultErrorStatuses). */
    errors?: number[];
  }
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);
const READ_METHODS = new Set(['GET', 'HEAD']);

const WHEN: Partial<Record<number, string>> = {
  400: 'The request is invalid: the path, query, body or X-Forja-Group header (details.issues names each field)',
  401: 'Credentials are missing, wrong, expired or revoked',
  403: "The caller's role does not allow this",
  404: 'What the request names does not exist, or the caller cannot see it',
  409: 'It conflicts with what exists: a name already taken, or a state that does not allow it',
  413: 'The body is larger than this endpoint accepts',
  415: 'The Content-Type is not one this endpoint reads',
  422: "The model's own code raised an exception; the message names it",
  429: 'Too many failed logins from this address; retry after Retry-After seconds',
  500: 'A bug on the server, logged with the request id',
  503: 'The server is stopping, or something it needs is busy or unavailable; retry',
  504: 'The work took longer than this endpoint waits',
};

/** The codes that come with a status, so the document cannot drift from ErrorCodes. */
const codesOf = (status: number) => (Object.keys(ErrorCodes) as ErrorCode[]).filter((c) => ErrorCodes[c] === status);

/** An error response in the shape every native route answers errors with. */
function errorResponse(status: number) {
  const codes = codesOf(status);
  if (codes.length === 0) throw new Error(`no error code answers with HTTP ${status}`);
  return { description: `${WHEN[status] ?? 'Error'} (${codes.join(', ')})`, content: { 'application/json': { schema: ErrorBodySchema } } };
}

/** A 2xx response that is a file (or one of several representations), by content type. */
export function contentResponse(description: string, types: Record<string, z.ZodType>) {
  return { description, content: Object.fromEntries(Object.entries(types).map(([type, schema]) => [type, { schema }])) };
}

/**
 * The errors a route can answer with, from what it declares: every documented route reads the
 * Authorization header (401 when it is bad, 429 after failed passwords), any request can meet a
 * bug or a stopping server; the rest follows from its auth requirement, method and inputs.
 */
function defaultErrorStatuses(method: string, auth: AuthRequirement, schema: FastifySchema): number[] {
  const statuses = [401, 429, 500, 503];
  const takesBody = BODY_METHODS.has(method);
  const byGroup = 'group' in auth;
  if (!('public' in auth)) statuses.push(403);
  if (takesBody || byGroup || schema.params || schema.querystring || schema.headers) statuses.push(400);
  if (byGroup || schema.params) statuses.push(404);
  if (!READ_METHODS.has(method)) statuses.push(409);
  if (takesBody) statuses.push(413, 415);
  return statuses.sort((a, b) => a - b);
}

/** Routes the document describes: native ones with an auth requirement, not hidden (the MLflow API has its own error shape). */
const isDocumented = (route: RouteOptions) => route.config?.auth !== undefined && !route.schema?.hide;

/**
 * A documented route's schema as the document shows it: its error responses (the defaults and
 * the ones it names, beside any it declares itself) and, on a public route, credentials optional
 * — a bad token sent to it is still refused. Documentation only: Fastify's own last-resort error
 * replies have another shape, and must not be run through these schemas.
 */
function documented(route: RouteOptions, schema: FastifySchema): FastifySchema {
  if (!isDocumented(route)) return schema;
  const auth = route.config!.auth!;
  const { errors = [], ...rest } = schema;
  const statuses = new Set([...defaultErrorStatuses([route.method].flat()[0]!, auth, schema), ...errors]);
  const response: Record<string, unknown> = Object.fromEntries([...statuses].map((status) => [status, errorResponse(status)]));
  Object.assign(response, schema.response);
  return { ...rest, response, ...('public' in auth && !schema.security ? { security: [{}, { bearer: [] }, { basic: [] }] } : {}) };
}

/** The zod-to-OpenAPI transform, plus the error responses and the bodies that handlers stream themselves. */
const transform: SwaggerTransform = (input) => {
  const { streamedBody, ...schema } = documented(input.route, input.schema ?? {});
  const out = jsonSchemaTransform({ ...input, schema });
  if (!streamedBody || out.schema.hide) return out;
  const content: Record<string, { schema: unknown }> = {};
  for (const [type, zod] of Object.entries(streamedBody)) {
    // The same conversion as JSON bodies (input side, OpenAPI 3.0 dialect), so forms read alike.
    content[type] = { schema: jsonSchemaTransform({ ...input, schema: { body: zod } }).schema.body };
  }
  return { ...out, schema: { ...out.schema, body: { content } } };
};

/** zod's registry gives each registered schema an input twin as well; keep only the components something refers to. */
const transformObject: SwaggerTransformObject = (input) => {
  const doc = jsonSchemaTransformObject(input);
  const schemas: Record<string, unknown> | undefined = 'components' in doc ? doc.components?.schemas : undefined;
  if (!schemas) return doc;
  const refs = JSON.stringify([doc.paths, schemas]);
  // A fresh object from the transform above, so pruning it in place touches nothing shared.
  for (const name of Object.keys(schemas)) if (!refs.includes(`"#/components/schemas/${name}"`)) delete schemas[name];
  return doc;
};

/** The OpenAPI document (served at /api/v1/openapi.json) and its browser at /docs; call before routes are added. */
export async function registerOpenApi(app: App, version: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Forja API', version, description: 'Forja native API. Errors are {"error": {"code", "message", "details"}} (the ErrorBody schema).' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'A session, personal, service or group token' },
          basic: { type: 'http', scheme: 'basic', description: 'Username and password (or a token as the password)' },
        },
      },
      security: [{ bearer: [] }, { basic: [] }],
    },
    transform,
    transformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}
