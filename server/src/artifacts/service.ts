import type { Readable } from 'node:stream';
import type { Role } from '@forja/contracts';
import type { RequestContext } from '../auth/principal.js';
import { invalid, notFound } from '../errors.js';
import type { TrackingService } from '../tracking/service.js';
import { LocalArtifactStore, type ArtifactEntry } from './local-store.js';

import { storePathOf } from './uris.js';

export interface ArtifactsServiceOptions {
  store: LocalArtifactStore;
  tracking: TrackingService;
}

/**
 * Artifacts of experiments, runs and logged models. The first segment of every stored path is the
 * experiment id, so access is decided by the caller's role in that experiment's group.
 */
export class ArtifactsService {
  readonly store: LocalArtifactStore;
  private readonly tracking: TrackingService;

  constructor(options: ArtifactsServiceOptions) {
    this.store = options.store;
    this.tracking = options.tracking;
  }

  private async authorize(ctx: RequestContext, relative: string, needed: Role, groupId?: string): Promise<string> {
    const rel = LocalArtifactStore.normalise(relative);
    const experimentId = rel.split('/')[0] ?? '';
    if (!/^\d+$/.test(experimentId)) throw notFound('Artifact', relative);
    const experiment = await this.tracking.readableExperiment(ctx, experimentId, needed);
    if (groupId !== undefined && experiment.group_id !== groupId) throw notFound('Artifact', relative);
    return rel;
  }

  async write(ctx: RequestContext, relative: string, body: Readable): Promise<number> {
    return this.store.write(await this.authorize(ctx, relative, 'editor'), body);
  }
  async open(ctx: RequestContext, relative: string) {
    return this.store.open(await this.authorize(ctx, relative, 'viewer'));
  }
  async list(ctx: RequestContext, relative: string): Promise<ArtifactEntry[]> {
    if (!LocalArtifactStore.normalise(relative)) return [];
    return this.store.list(await this.authorize(ctx, relative, 'viewer'));
  }
  async remove(ctx: RequestContext, relative: string): Promise<void> {
    await this.store.remove(await this.authorize(ctx, relative, 'editor'));
  }

  /**
   * Copies the files behind an `mlflow-artifacts:/…` URI to a local folder, if the caller may read
   * them and they belong to `groupId` (a model version's files never come from another group's
   * folders, whoever asks). Forja never fetches a URI it does not store.
   */
  async copyOut(ctx: RequestContext, uri: string, dest: string, groupId: string): Promise<void> {
    const relative = storePathOf(uri);
    if (relative === undefined)
      throw invalid(
        `${uri.slice(0, 300)} is not stored on this server: Forja only copies model files it holds (the artifacts of a run, logged model or experiment of the group).`,
      );
    const rel = await this.authorize(ctx, relative, 'viewer', groupId);
    await this.store.copyOut(rel, dest);
  }

  /** The store path of a run's artifact root plus a sub-path, after checking the caller may use the run. */
  async runPath(ctx: RequestContext, runId: string, sub: string | undefined, needed: Role): Promise<{ root: string; rel: string; rootUri: string }> {
    const run = await this.tracking.readableRun(ctx, runId, needed);
    const root = storePathOf(run.artifact_uri);
    if (root === undefined) throw invalid(`Run ${runId} keeps its artifacts at ${run.artifact_uri}, which this server does not serve.`);
    const clean = LocalArtifactStore.normalise(sub ?? '');
    return { root, rel: clean ? `${root}/${clean}` : root, rootUri: run.artifact_uri };
  }

  /** A file under a run's artifact root, after checking the caller may read the run. */
  async openRunFile(ctx: RequestContext, runId: string, sub: string) {
    const { rel } = await this.runPath(ctx, runId, sub, 'viewer');
    return this.store.open(rel);
  }

  /** Writes a file under a run's artifact root, after checking the caller may edit the run; its size. */
  async writeRunFile(ctx: RequestContext, runId: string, sub: string, body: Readable): Promise<number> {
    const { rel } = await this.runPath(ctx, runId, sub, 'editor');
    return this.store.write(rel, body);
  }

  /**
   * The store path of `sub` under an `mlflow-artifacts:/` root that Forja keeps for another owner (a
   * logged model, a model version), after checking the caller's role in the group that owns the folder.
   */
  async pathUnder(ctx: RequestContext, rootUri: string, sub: string, needed: Role): Promise<string> {
    const root = storePathOf(rootUri);
    if (root === undefined) throw invalid(`The artifacts at ${rootUri} are not stored on this server.`);
    const clean = LocalArtifactStore.normalise(sub);
    return this.authorize(ctx, clean ? `${root}/${clean}` : root, needed);
  }

  /** A file under such a root, after checking the caller may read it. */
  async openUnder(ctx: RequestContext, rootUri: string, sub: string) {
    return this.store.open(await this.pathUnder(ctx, rootUri, sub, 'viewer'));
  }

  /** A directory under such a root, with paths relative to the root (as MLflow lists them). */
  async listUnder(ctx: RequestContext, rootUri: string, sub: string): Promise<ArtifactEntry[]> {
    const clean = LocalArtifactStore.normalise(sub);
    const entries = await this.store.list(await this.pathUnder(ctx, rootUri, clean, 'viewer'));
    return entries.map((e) => ({ ...e, path: clean ? `${clean}/${e.path}` : e.path }));
  }

  /** MLflow's artifacts/list for a run: paths relative to the run's artifact root. */
  async listRun(ctx: RequestContext, runId: string, sub: string | undefined): Promise<{ rootUri: string; files: ArtifactEntry[] }> {
    const { rel, rootUri } = await this.runPath(ctx, runId, sub, 'viewer');
    const clean = LocalArtifactStore.normalise(sub ?? '');
    const entries = await this.store.list(rel);
    return { rootUri, files: entries.map((e) => ({ ...e, path: clean ? `${clean}/${e.path}` : e.path })) };
  }
}
