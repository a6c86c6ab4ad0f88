import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { RequestContext } from '../auth/principal.js';
import { AppError, invalid, notFound } from '../errors.js';
import type { ArtifactsService } from './service.js';

interface UploadMeta {
  id: string;
  runId: string;
  /** Path inside the run's artifact root. */
  path: string;
  /** Store path the finished file goes to. */
  target: string;
  size: number | null;
  createdBy: string;
  createdAt: number;
}

export interface UploadState {
  uploadId: string;
  runId: string;
  path: string;
  received: number;
  size: number | null;
}

const ID = /^[a-f0-9]{32}$/;

/**
 * Resumable chunked uploads of large artifacts (DHuolib sends 10 MiB chunks). Chunks are appended
 * in order to a part file; a chunk whose offset is not where the part file ends is refused with
 * 409 and the current offset, so a client can resume after a dropped connection. Only `complete`
 * moves the file into place, so nothing partial is ever visible. State lives next to the part
 * file, so servers sharing the artifact directory share uploads too.
 */
export class ChunkedUploads {
  private readonly dir: string;

  constructor(
    private readonly artifacts: ArtifactsService,
    private readonly clock: () => number = Date.now,
  ) {
    this.dir = path.join(artifacts.store.root, '.uploads', 'chunked');
  }

  async start(ctx: RequestContext, runId: string, relPath: string, size: number | undefined): Promise<UploadState> {
    const { rel } = await this.artifacts.runPath(ctx, runId, relPath, 'editor');
    if (!relPath.replace(/\/+$/, '')) throw invalid('Name the file to upload (path).');
    const id = randomBytes(16).toString('hex');
    const meta: UploadMeta = { id, runId, path: relPath, target: rel, size: size ?? null, createdBy: ctx.principal.name, createdAt: this.clock() };
    await mkdir(this.dir, { recursive: true });
    await writeFile(this.partFile(id), '');
    await writeFile(this.metaFile(id), JSON.stringify(meta));
    return { uploadId: id, runId, path: relPath, received: 0, size: meta.size };
  }

  async status(ctx: RequestContext, id: string): Promise<UploadState> {
    const meta = await this.meta(ctx, id);
    return this.state(meta);
  }

  async append(ctx: RequestContext, id: string, offset: number, body: Readable): Promise<UploadState> {
    const meta = await this.meta(ctx, id);
    const received = (await stat(this.partFile(id))).size;
    if (offset !== received) {
      body.resume();
      throw new AppError('CONFLICT', `This upload has ${received} bytes; send the chunk that starts at offset ${received}.`, { received });
    }
    try {
      await pipeline(body, createWriteStream(this.partFile(id), { flags: 'a' }));
    } catch (err) {
      // A chunk cut off mid-way leaves bytes the client cannot know about: roll back to the offset.
      await truncate(this.partFile(id), received);
      throw invalid(`The chunk was cut off (${(err as Error).message}); resend it from offset ${received}.`);
    }
    const state = await this.state(meta);
    if (meta.size !== null && state.received > meta.size) {
      await truncate(this.partFile(id), received);
      throw invalid(`The upload declared ${meta.size} bytes; this chunk goes past the end.`);
    }
    return state;
  }

  async complete(ctx: RequestContext, id: string, sha256?: string): Promise<{ path: string; size: number; sha256: string }> {
    const meta = await this.meta(ctx, id);
    await this.artifacts.runPath(ctx, meta.runId, meta.path, 'editor');
    const part = this.partFile(id);
    const size = (await stat(part)).size;
    if (meta.size !== null && size !== meta.size) throw invalid(`The upload has ${size} of ${meta.size} bytes; send the rest before completing.`);
    const digest = createHash('sha256');
    await pipeline(createReadStream(part), digest);
    const actual = digest.digest('hex');
    if (sha256 && sha256.toLowerCase() !== actual) throw invalid(`The file's SHA-256 is ${actual}, not ${sha256}: the upload is corrupt; start again.`);
    await this.artifacts.store.adopt(part, meta.target);
    await this.cleanup(id);
    return { path: meta.path, size, sha256: actual };
  }

  async abort(ctx: RequestContext, id: string): Promise<void> {
    await this.meta(ctx, id);
    await this.cleanup(id);
  }

  private async meta(ctx: RequestContext, id: string): Promise<UploadMeta> {
    if (!ID.test(id)) throw invalid(`Invalid upload id '${id.slice(0, 40)}'.`);
    const text = await readFile(this.metaFile(id), 'utf8').catch(() => undefined);
    if (!text) throw notFound('Upload', id);
    const meta = JSON.parse(text) as UploadMeta;
    // The caller must still be allowed to write to the run.
    await this.artifacts.runPath(ctx, meta.runId, meta.path, 'editor');
    return meta;
  }

  private async state(meta: UploadMeta): Promise<UploadState> {
    const received = (await stat(this.partFile(meta.id))).size;
    return { uploadId: meta.id, runId: meta.runId, path: meta.path, received, size: meta.size };
  }

  private partFile(id: string) {
    return path.join(this.dir, `${id}.part`);
  }
  private metaFile(id: string) {
    return path.join(this.dir, `${id}.json`);
  }
  private async cleanup(id: string): Promise<void> {
    await rm(this.partFile(id), { force: true });
    await rm(this.metaFile(id), { force: true });
  }
}
