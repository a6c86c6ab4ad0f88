import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ArtifactsService } from '../../artifacts/service.js';
import type { ChunkedUploads } from '../../artifacts/uploads.js';
import type { GroupsService } from '../../auth/groups-service.js';
import type { SchedulesService } from '../../batch/schedules.js';
import type { BatchService } from '../../batch/service.js';
import type { DeploymentsService } from '../../deployments/service.js';
import type { AuthRequirement } from '../../http/types.js';
import type { RegistryService } from '../../registry/service.js';
import type { TrackingService } from '../../tracking/service.js';

/** The services DHuolib's REST surface is translated onto. */
export interface DhuoDeps {
  tracking: TrackingService;
  artifacts: ArtifactsService;
  uploads: ChunkedUploads;
  registry: RegistryService;
  deployments: DeploymentsService;
  batch: BatchService;
  schedules: SchedulesService;
  groups: GroupsService;
}

type Handler = (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
/** Declares one route under both DHuolib prefixes, hidden from Forja's OpenAPI document. */
export type DhuoRoute = (method: 'GET' | 'POST' | 'DELETE', path: string, auth: AuthRequirement, handler: Handler) => void;
export const viewer = { group: 'viewer' } as const;
export const editor = { group: 'editor' } as const;
