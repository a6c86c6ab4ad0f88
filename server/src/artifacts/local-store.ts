import { createReadStream, createWriteStream } from 'node:fs';
import { cp, lstat, mkdir, readdir, realpath, rename, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError, invalid, notFound } from '../errors.js';

export interface ArtifactEntry {
  /** Path relative to the listed directory's root, with "/" separators. */
  path: string;
  isDir: boolean;
  size: number | null;
}

/**
 * Artifacts on a local (or shared) directory. Every path is checked to stay inside the root:
 * no "..", no absolute paths, and no symlink that leads outside. Uploads land in a temporary file
 * and are renamed into place, so a cut-off upload never leaves a partial file behind.
 */
export class LocalArtifactStore {
  /** Where uploads are written before they are renamed into place. */
  readonly tmpDir: string;

  constructor(
    readonly root: string,
    private readonly maxBytes = 10 * 1024 ** 3,
  ) {
    this.tmpDir = path.join(root, '.uploads');
  }

  /** Validates a relative artifact path and returns its normalised form ("" is the root). */
  static normalise(relative: string): string {
    if (relative.includes('\0')) throw invalid('Artifact paths cannot contain NUL characters.');
    const decoded = relative.replace(/\\/g, '/');
    if (decoded.startsWith('/') || /^[A-Za-z]:/.test(decoded)) throw invalid(`Invalid path '${relative}': it must be relative.`);
    const parts = decoded.split('/').filter((p) => p !== '' && p !== '.');
    if (parts.some((p) => p === '..')) throw invalid(`Invalid path '${relative}': an artifact path may not contain '..'.`);
    if (parts[0] === '.uploads') throw invalid(`Invalid path '${relative}'.`);
    return parts.join('/');
  }

  /** Absolute path for a relative one, after making sure no symlink on the way leads outside the root. */
  private async resolve(relative: string): Promise<string> {
    const rel = LocalArtifactStore.normalise(relative);
    const full = path.join(this.root, rel);
    const rootReal = await realpath(this.root);
    // Walk up to the deepest existing ancestor and check where it really is.
    let probe = full;
    for (;;) {
      try {
        const real = await realpath(probe);
        if (real !== rootReal && !real.startsWith(rootReal + path.sep)) throw invalid(`Invalid path '${relative}': it leads outside the artifact store.`);
        break;
      } catch (err) {
        if (err instanceof AppError) throw err;
        const parent = path.dirname(probe);
        if (parent === probe) break;
        probe = parent;
      }
    }
    return full;
  }

  async write(relative: string, body: Readable): Promise<number> {
    const target = await this.resolve(relative);
    if (!LocalArtifactStore.normalise(relative)) throw invalid('An artifact needs a file name.');
    await mkdir(this.tmpDir, { recursive: true });
    const tmp = path.join(this.tmpDir, `${Date.now()}-${randomBytes(6).toString('hex')}`);
    let size = 0;
    const limit = this.maxBytes;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > limit) done(new AppError('PAYLOAD_TOO_LARGE', `The artifact is larger than ${limit} bytes.`));
        else done(null, chunk);
      },
    });
    try {
      await pipeline(body, counter, createWriteStream(tmp));
      if ((body as { complete?: boolean }).complete === false || (body as { aborted?: boolean }).aborted)
        throw invalid('The upload was cut off before the end.');
      await this.prepareTarget(target, relative);
      await rename(tmp, target);
      return size;
    } catch (err) {
      await rm(tmp, { force: true });
      if (err instanceof AppError) throw err;
      if ((err as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE' || (err as NodeJS.ErrnoException).code === 'ECONNRESET')
        throw invalid('The upload was cut off before the end.');
      throw err;
    }
  }

  /** Moves a finished file from inside the store (a completed chunked upload) into place, atomically. */
  async adopt(file: string, relative: string): Promise<void> {
    const target = await this.resolve(relative);
    if (!LocalArtifactStore.normalise(relative)) throw invalid('An artifact needs a file name.');
    await this.prepareTarget(target, relative);
    await rename(file, target);
  }

  /** Makes the parent directories; a directory in the file's place is a conflict, not something to replace. */
  private async prepareTarget(target: string, relative: string): Promise<void> {
    await mkdir(path.dirname(target), { recursive: true });
    const existing = await stat(target).catch(() => undefined);
    if (existing?.isDirectory()) throw new AppError('CONFLICT', `'${relative}' is a directory.`);
  }

  async open(relative: string): Promise<{ stream: Readable; size: number }> {
    const full = await this.resolve(relative);
    const info = await lstat(full).catch(() => undefined);
    if (!info || info.isDirectory()) throw notFound('Artifact', relative);
    if (info.isSymbolicLink()) {
      const real = await realpath(full);
      const rootReal = await realpath(this.root);
      if (!real.startsWith(rootReal + path.sep)) throw invalid(`Invalid path '${relative}': it leads outside the artifact store.`);
    }
    const size = (await stat(full)).size;
    return { stream: createReadStream(full), size };
  }

  /** Direct children of a directory; an absent directory lists as empty, as in MLflow. */
  async list(relative: string): Promise<ArtifactEntry[]> {
    const full = await this.resolve(relative);
    const entries = await readdir(full, { withFileTypes: true }).catch(() => []);
    const out: ArtifactEntry[] = [];
    for (const e of entries) {
      if (e.name === '.uploads' && full === this.root) continue;
      const isDir = e.isDirectory();
      const size = isDir ? null : ((await stat(path.join(full, e.name)).catch(() => undefined))?.size ?? null);
      out.push({ path: e.name, isDir, size });
    }
    return out.sort((a, b) => a.path.localeCompare(b.path));
  }

  /** Copies a stored file or directory out of the store (a deployment's snapshot of a model). */
  async copyOut(relative: string, dest: string): Promise<void> {
    const source = await this.resolve(relative);
    try {
      await cp(source, dest, { recursive: true, dereference: false, errorOnExist: false });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new AppError('NOT_FOUND', `No artifacts at '${relative}'.`);
      throw err;
    }
  }

  async remove(relative: string): Promise<void> {
    const rel = LocalArtifactStore.normalise(relative);
    if (!rel) throw invalid('Refusing to delete the whole artifact store.');
    await rm(await this.resolve(rel), { recursive: true, force: true });
  }
}
