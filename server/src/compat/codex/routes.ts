import type { AccessPolicy } from '../../auth/access.js';
import type { GroupsService } from '../../auth/groups-service.js';
import type { TokensService } from '../../auth/tokens-service.js';
import type { ExecutionsService } from '../../deployments/executions.js';
import type { DeploymentsService } from '../../deployments/service.js';
import type { LakeService } from '../../lake/service.js';
import type { MonitorsService } from '../../monitoring/service.js';
import type { App } from '../../http/types.js';
import { AppError } from '../../errors.js';
import { registerCodexAuthRoutes } from './auth-routes.js';
import { registerCodexModelRoutes } from './models-routes.js';
import { registerCodexTrainingRoutes, type CodexTrainingDeps } from './training-routes.js';
import { registerCodexMonitoringRoutes } from './monitoring-routes.js';
import { codexErrorHandler, parseFormBody } from './wire.js';

/** The client's base URL is `<url>/api` (its parse_url): MLOPS_URL=http://forja:5050/codex. */
export const CODEX_PREFIX = '/codex/api';

/** The services MLOps Codex's REST surface is translated onto (each part adds what it needs). */
export interface CodexDeps extends CodexTrainingDeps {
  deployments: DeploymentsService;
  executions: ExecutionsService;
  /** For `{g}` path segments: see group-scope.ts. */
  access: AccessPolicy;
  groups: GroupsService;
  tokens: TokensService;
  /** FORJA_CODEX_TENANT. */
  tenant: string;
  /** Monitoring of hosted models (monitoring-routes.ts); the lake for their inference logs' columns. */
  monitors: MonitorsService;
  lake: LakeService;
}

/**
 * MLOps Codex's REST surface (datarisk-mlops-codex 3.x and 4.x), translated onto Forja's services:
 * no second store. Errors come back in Codex's shape.
 */
export function registerCodexRoutes(app: App, deps: CodexDeps): void {
  app.register(
    async (scope) => {
      scope.setErrorHandler(codexErrorHandler);
      scope.setNotFoundHandler((req) => {
        throw new AppError('ROUTE_NOT_FOUND', `Forja does not serve ${req.method} ${req.url.split('?')[0]} on its MLOps Codex API.`);
      });
      // The client sends its login and most management calls as HTML forms.
      scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, parseFormBody);
      registerCodexAuthRoutes(scope, deps);
      await registerCodexModelRoutes(scope, deps);
      registerCodexTrainingRoutes(scope, deps);
      await registerCodexMonitoringRoutes(scope, deps);
    },
    { prefix: CODEX_PREFIX },
  );
}
