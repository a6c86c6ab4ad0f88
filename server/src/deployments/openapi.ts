import type { Deployment } from '@forja/contracts';
import { schemaFromSample } from './schema-check.js';

const ERROR = { $ref: '#/components/schemas/Error' };
const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: ERROR } } });

/**
 * An OpenAPI document for one deployment's predict call, with the row schema its sample implies:
 * what a team hands to the people who call the model (and what code generators read).
 */
export function deploymentOpenApi(deployment: Deployment, group: string, baseUrl: string): Record<string, unknown> {
  const schema = schemaFromSample(deployment.schemaSample);
  const row = schema
    ? {
        type: 'object',
        required: [...schema.fields.keys()],
        properties: Object.fromEntries([...schema.fields].map(([name, type]) => [name, type === 'null' ? {} : { type, nullable: true }])),
      }
    : { type: 'object', description: 'This deployment has no schema sample: any object.', additionalProperties: true };
  const body = {
    oneOf: [
      { $ref: '#/components/schemas/Row' },
      { type: 'array', items: { $ref: '#/components/schemas/Row' } },
      { type: 'object', required: ['Input'], properties: { Input: {} } },
    ],
  };
  const predict = {
    summary: `Predict with ${deployment.name}`,
    description: `Kind ${deployment.kind}${deployment.modelVersion ? `, model ${deployment.modelVersion.name} version ${deployment.modelVersion.version}` : ''}. JSON rows (one object, a list, {"Input": …} or MLflow's shapes), CSV or Parquet. Group tokens of "${group}" may call it.`,
    operationId: `predict_${deployment.name.replace(/[^A-Za-z0-9_]/g, '_')}`,
    parameters: [{ name: 'X-Forja-Group', in: 'header', required: false, schema: { type: 'string', default: group } }],
    requestBody: {
      required: true,
      content: {
        'application/json': {
          schema: body,
          ...(deployment.schemaSample !== null && deployment.schemaSample !== undefined ? { example: deployment.schemaSample } : {}),
        },
        'text/csv': { schema: { type: 'string' } },
        'application/vnd.apache.parquet': { schema: { type: 'string', format: 'binary' } },
      },
    },
    responses: {
      '200': { description: "The model's answer, as JSON", content: { 'application/json': { schema: {} } } },
      '400': errorResponse('The rows do not match the schema (the message names the row and field)'),
      '401': errorResponse('No or a bad token'),
      '404': errorResponse('No such deployment in this group'),
      '409': errorResponse('The deployment is not Deployed (building, failed or disabled)'),
      '413': errorResponse('The body is larger than 50 MiB: use an async execution'),
      '415': errorResponse('Not JSON, CSV or Parquet'),
      '422': errorResponse("The model's own code raised"),
      '503': errorResponse('Every worker is busy and the queue is full: retry later'),
      '504': errorResponse('The model took longer than the deployment timeout'),
    },
  };
  return {
    openapi: '3.0.3',
    info: { title: `Forja deployment ${deployment.name}`, version: deployment.modelVersion ? deployment.modelVersion.version : String(deployment.updatedAt) },
    servers: [{ url: baseUrl }],
    security: [{ bearer: [] }],
    paths: { [`/api/v1/deployments/${deployment.id}/predict`]: { post: predict } },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A personal, service or group token' } },
      schemas: {
        Row: row,
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: { code: { type: 'string' }, message: { type: 'string' }, details: {}, requestId: { type: 'string' } },
            },
          },
        },
      },
    },
  };
}
