import { Readable } from 'node:stream';
import type { GroupScope, RequestContext } from '../../auth/principal.js';
import type { ChunkedUploads } from '../../artifacts/uploads.js';
import { AppError, invalid } from '../../errors.js';
import type { TrackingService } from '../../tracking/service.js';

/** DHuolib reads and posts its files in chunks of exactly this size; only a file's last chunk is shorter. */
export const CHUNK_BYTES = 10 * 1024 * 1024;
/** The two files execute_run_for_experiment sends, in this order, and where each lands in the run. */
export const RUN_FILES = { requirements_path: 'model/requirements.txt', modelpkl_path: 'model/model.pkl' } as const;
export type RunFile = keyof typeof RUN_FILES;
/** An attempt that received no chunk for this long was abandoned (a notebook killed mid-way): the next chunk starts afresh. */
const ABANDONED_MS = 30 * 60 * 1000;

/** Who sends the chunks and what has arrived: kept as tags of the run being uploaded, so no store of its own. */
const UPLOADER_TAG = 'forja.dhuo.uploader';
const STATE_TAG = 'forja.dhuo.upload';
interface UploadState {
  /** Chunked upload ids (artifacts/uploads.ts) by file. */
  files: Partial<Record<RunFile, string>>;
  /** Why a chunk was refused: the attempt is spoilt, POST runs will say so and end it. */
  broken?: string;
  /** When the last chunk arrived. */
  at: number;
}

/**
 * DHuolib's run upload: `POST runs/upload_chunk` once per 10 MiB chunk of requirements.txt, then of
 * the pickle, carrying neither an index nor an offset, then `POST runs`. The first chunk creates the
 * tracking run (RUNNING) and each file is staged with Forja's resumable uploads, appended at the
 * offset the upload has reached; `POST runs` completes them into the run's artifacts, tags it and
 * marks it FINISHED.
 *
 * With no index, order is told from sizes: a chunk shorter than 10 MiB is a file's last, so any
 * chunk of that file after it is repeated or out of order, and so is a requirements chunk after the
 * pickle's first one. Such a chunk is refused (400) and spoils the attempt, because dhuolib ignores a
 * refused chunk and sends the rest: `POST runs` then answers 400 with the reason and ends the run
 * FAILED, and the next execute_run_for_experiment starts clean. A full-size chunk sent twice cannot
 * be told from the next one: the protocol carries nothing that tells them apart.
 *
 * One attempt at a time per caller and experiment: that is all the protocol can tell apart.
 */
export class DhuoRunUploads {
  constructor(private readonly o: { tracking: TrackingService; uploads: ChunkedUploads; clock?: () => number }) {}

  private now(): number {
    return (this.o.clock ?? Date.now)();
  }

  async chunk(ctx: RequestContext, scope: GroupScope, experimentName: string, file: RunFile, bytes: Buffer): Promise<{ received: number }> {
    if (bytes.length === 0) throw invalid(`The ${file} chunk is empty: send the file's bytes in the "${file}" part.`);
    const experiment = await this.experiment(ctx, scope, experimentName);
    let pending = await this.pending(ctx, experiment.experimentId);
    if (pending && this.now() - pending.state.at > ABANDONED_MS) {
      await this.end(ctx, pending.runId, 'FAILED', pending.state);
      pending = undefined;
    }
    const { runId, state } = pending ?? (await this.begin(ctx, scope, experiment.experimentId));
    if (state.broken) throw invalid(`${state.broken} This attempt is spoilt: run execute_run_for_experiment again.`);
    const refuse = async (why: string): Promise<never> => {
      await this.save(ctx, runId, { ...state, broken: why, at: this.now() });
      throw invalid(`${why} Run execute_run_for_experiment again.`);
    };
    if (file === 'requirements_path' && state.files.modelpkl_path)
      await refuse('A requirements_path chunk arrived after modelpkl_path chunks: dhuolib sends the requirements first, so it is repeated or out of order.');
    let id = state.files[file];
    let received = 0;
    if (id) {
      received = (await this.o.uploads.status(ctx, id)).received;
      if (received % CHUNK_BYTES !== 0)
        await refuse(
          `${file} already ended with a chunk of ${received % CHUNK_BYTES} bytes (every chunk but the last is exactly ${CHUNK_BYTES} bytes), so this one is repeated or out of order.`,
        );
    } else {
      id = (await this.o.uploads.start(ctx, runId, RUN_FILES[file], undefined)).uploadId;
      state.files[file] = id;
    }
    const after = await this.o.uploads.append(ctx, id, received, Readable.from([bytes]));
    await this.save(ctx, runId, { ...state, at: this.now() });
    return { received: after.received };
  }

  /** POST runs: the uploaded files become the run's model; a spoilt or empty attempt is a 400 that ends it FAILED. */
  async finish(
    ctx: RequestContext,
    scope: GroupScope,
    experimentName: string,
    typeModel: string,
    tags: { key: string; value: string }[],
  ): Promise<{ experiment_name: string; run_id: string; model_uri: string }> {
    const experiment = await this.experiment(ctx, scope, experimentName);
    const pending = await this.pending(ctx, experiment.experimentId);
    if (!pending)
      throw invalid(
        `No file chunks of yours are waiting in experiment '${experimentName}': send the pickle with POST runs/upload_chunk first (execute_run_for_experiment does).`,
      );
    const { runId, state } = pending;
    const fail = async (why: string): Promise<never> => {
      await this.end(ctx, runId, 'FAILED', state);
      throw invalid(`${why} Run ${runId} is marked FAILED; run execute_run_for_experiment again.`);
    };
    if (state.broken) await fail(`A chunk of this upload was refused: ${state.broken}`);
    if (!state.files.modelpkl_path) await fail('No modelpkl_path chunk arrived: the run has no model pickle.');
    for (const id of Object.values(state.files)) await this.o.uploads.complete(ctx, id);
    // type_model wins over a tag of that name, as Forja's Python SDK does.
    await this.o.tracking.logBatch(ctx, runId, { tags: [...tags.filter((t) => t.key !== 'type_model'), { key: 'type_model', value: typeModel }] });
    await this.end(ctx, runId, 'FINISHED');
    return { experiment_name: experiment.name, run_id: runId, model_uri: `runs:/${runId}/model` };
  }

  private async experiment(ctx: RequestContext, scope: GroupScope, name: string) {
    try {
      return await this.o.tracking.getExperimentByName(ctx, scope, name);
    } catch (err) {
      if (err instanceof AppError && err.code === 'NOT_FOUND')
        throw new AppError('NOT_FOUND', `No experiment '${name}' in group '${scope.name}': create it first with create_experiment.`);
      throw err;
    }
  }

  private uploaderOf(ctx: RequestContext): string {
    return ctx.principal.userId ?? ctx.principal.tokenId ?? ctx.principal.name;
  }

  private async pending(ctx: RequestContext, experimentId: string): Promise<{ runId: string; state: UploadState } | undefined> {
    const page = await this.o.tracking.searchRuns(ctx, {
      experimentIds: [experimentId],
      filter: `tags.\`${UPLOADER_TAG}\` = '${this.uploaderOf(ctx).replace(/'/g, '')}' AND attributes.status = 'RUNNING'`,
      orderBy: ['attributes.start_time DESC'],
      maxResults: 1,
    });
    const run = page.runs[0];
    if (!run) return undefined;
    const text = run.data.tags.find((t) => t.key === STATE_TAG)?.value;
    return { runId: run.info.runId, state: text ? (JSON.parse(text) as UploadState) : { files: {}, at: run.info.startTime } };
  }

  private async begin(ctx: RequestContext, scope: GroupScope, experimentId: string): Promise<{ runId: string; state: UploadState }> {
    const state: UploadState = { files: {}, at: this.now() };
    const run = await this.o.tracking.createRun(ctx, scope, {
      experimentId,
      tags: [
        { key: UPLOADER_TAG, value: this.uploaderOf(ctx).replace(/'/g, '') },
        { key: STATE_TAG, value: JSON.stringify(state) },
      ],
    });
    return { runId: run.info.runId, state };
  }

  private save(ctx: RequestContext, runId: string, state: UploadState): Promise<void> {
    return this.o.tracking.logBatch(ctx, runId, { tags: [{ key: STATE_TAG, value: JSON.stringify(state) }] });
  }

  /** The attempt is over: its bookkeeping tags go, the run keeps its result; a failed one's staged chunks are dropped. */
  private async end(ctx: RequestContext, runId: string, status: 'FINISHED' | 'FAILED', state?: UploadState): Promise<void> {
    for (const id of Object.values(state?.files ?? {})) await this.o.uploads.abort(ctx, id).catch(() => undefined);
    await this.o.tracking.deleteTag(ctx, runId, UPLOADER_TAG);
    await this.o.tracking.deleteTag(ctx, runId, STATE_TAG);
    await this.o.tracking.updateRun(ctx, runId, { status, endTime: this.now() });
  }
}
