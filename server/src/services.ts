import type { Config } from './config.js';
import type { Db } from './db/database.js';
import { AccessPolicy } from './auth/access.js';
import { AuditLog } from './auth/audit.js';
import { Authenticator } from './auth/authenticator.js';
import { GroupsService } from './auth/groups-service.js';
import { AuthStore } from './auth/store.js';
import { TokensService } from './auth/tokens-service.js';
import { UsersService } from './auth/users-service.js';
import { TrackingService } from './tracking/service.js';
import { TrackingStore } from './tracking/store.js';
import { ArtifactsService } from './artifacts/service.js';
import { LoggedModelsService } from './tracking/logged-models.js';
import { LocalArtifactStore } from './artifacts/local-store.js';
import { ChunkedUploads } from './artifacts/uploads.js';
import { RegistryService } from './registry/service.js';
import { RegistryStore } from './registry/store.js';

/** Every service, wired once from real parts. Tests build this the same way with a temporary database. */
export interface Services {
  db: Db;
  authStore: AuthStore;
  authenticator: Authenticator;
  access: AccessPolicy;
  audit: AuditLog;
  users: UsersService;
  groups: GroupsService;
  tokens: TokensService;
  tracking: TrackingService;
  artifacts: ArtifactsService;
  loggedModels: LoggedModelsService;
  uploads: ChunkedUploads;
  registry: RegistryService;
}

export function createServices(db: Db, config: Pick<Config, 'sessionTtlHours' | 'artifactsDir'>, clock: () => number = Date.now): Services {
  const authStore = new AuthStore(db);
  const authenticator = new Authenticator(authStore, clock);
  const access = new AccessPolicy(authStore, clock);
  authenticator.onInvalidate(() => access.invalidate());
  const audit = new AuditLog(authStore, access, clock);
  const artifactStore = new LocalArtifactStore(config.artifactsDir);
  const tracking = new TrackingService(new TrackingStore(db), authStore, access, audit, artifactStore, clock);
  const artifacts = new ArtifactsService(artifactStore, tracking);
  const loggedModels = new LoggedModelsService(db, tracking, clock);
  return {
    db,
    authStore,
    authenticator,
    access,
    audit,
    users: new UsersService(authStore, access, audit, authenticator, clock),
    groups: new GroupsService(authStore, access, audit, authenticator, clock),
    tokens: new TokensService(authStore, access, audit, authenticator, config.sessionTtlHours * 3600_000, clock),
    tracking,
    artifacts,
    loggedModels,
    uploads: new ChunkedUploads(artifacts, clock),
    registry: new RegistryService(new RegistryStore(db), tracking, loggedModels, audit, clock),
  };
}
