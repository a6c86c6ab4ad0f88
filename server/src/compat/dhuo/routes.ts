import type { App } from '../../http/types.js';
import type { TrackingService } from '../../tracking/service.js';
import { AppError } from '../../errors.js';

/**
 * The client's base is `<service_uri>/api`: service_uri=http://forja:5050/dhuo acts in the caller's
 * default group, http://forja:5050/g/<group>/dhuo in that group (the client cannot send a group header).
 */
export const DHUO_PREFIXES = ['/dhuo/api', '/g/:group/dhuo/api'];

/** The services DHuolib's REST surface is translated onto. */
export interface DhuoDeps {
  tracking: TrackingService;
}

/** DHuolib 0.2.3's REST surface, translated onto Forja's services: no second store. */
export function registerDhuoRoutes(app: App, deps: DhuoDeps): void {
  for (const prefix of DHUO_PREFIXES) {
    app.register(
      async (scope) => {
        scope.setNotFoundHandler((req) => {
          throw new AppError('ROUTE_NOT_FOUND', `Forja does not serve ${req.method} ${req.url.split('?')[0]} on its DHuolib API.`);
        });
        void deps;
      },
      { prefix },
    );
  }
}
