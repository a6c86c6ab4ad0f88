import { createWriteStream, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadable } from 'node:stream/web';
import { z } from 'zod';
import { ForjaApiError, type ForjaClient } from '@forja/client';
import { Progress } from './progress.js';

const ProxyList = z.object({ files: z.array(z.object({ path: z.string(), is_dir: z.boolean().optional(), file_size: z.number().optional() })).default([]) });

/** The store path of an `mlflow-artifacts:/…` URI (a run's or a model version's files). */
export function storePathOf(uri: string): string | undefined {
  return uri.startsWith('mlflow-artifacts:/') ? uri.slice('mlflow-artifacts:/'.length).replace(/^\/+/, '') : undefined;
}

/** Counts bytes as they pass, for the progress bar. */
export const counting = (progress: Progress) =>
  new Transform({
    transform(chunk: Buffer, _enc, done) {
      progress.add(chunk.length);
      done(null, chunk);
    },
  });

/**
 * Downloads a file or a whole directory of the artifact store through the server's artifact
 * proxy, streamed to disk with a progress bar per file. Returns how many files arrived.
 */
export async function downloadStorePath(client: ForjaClient, storePath: string, dest: string): Promise<number> {
  const parent = storePath.includes('/') ? storePath.slice(0, storePath.lastIndexOf('/')) : '';
  const name = path.posix.basename(storePath);
  const siblings = await client.request('GET', '/api/2.0/mlflow-artifacts/artifacts', ProxyList, { query: { path: parent } });
  const entry = siblings.files.find((f) => f.path === name);
  if (!entry) throw new Error(`Nothing stored at ${storePath}.`);
  if (entry.is_dir) {
    const children = await client.request('GET', '/api/2.0/mlflow-artifacts/artifacts', ProxyList, { query: { path: storePath } });
    let n = 0;
    for (const c of children.files) n += await downloadStorePath(client, `${storePath}/${c.path}`, path.join(dest, name));
    return n;
  }
  mkdirSync(dest, { recursive: true });
  const url = `${client.baseUrl}/api/2.0/mlflow-artifacts/artifacts/${storePath.split('/').map(encodeURIComponent).join('/')}`;
  const res = await fetch(url, { headers: { authorization: `Bearer ${client.token ?? ''}` } });
  if (!res.ok || !res.body) throw ForjaApiError.from(res.status, `HTTP_${res.status}`, `Download of ${storePath} failed (${res.status}).`);
  const progress = new Progress(name, Number(res.headers.get('content-length')) || undefined);
  await pipeline(Readable.fromWeb(res.body as WebReadable), counting(progress), createWriteStream(path.join(dest, name)));
  progress.finish();
  return 1;
}

/** Streams a response body to `file` with a progress bar; a broken download never leaves half a file under its name. */
export async function saveBody(res: Response, file: string): Promise<void> {
  if (!res.body) throw new Error('The server sent an empty answer.');
  const progress = new Progress(path.basename(file), Number(res.headers.get('content-length')) || undefined);
  const partial = path.join(path.dirname(file), `.${path.basename(file)}.part-${process.pid}`);
  try {
    await pipeline(Readable.fromWeb(res.body as WebReadable), counting(progress), createWriteStream(partial));
    renameSync(partial, file);
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  }
  progress.finish();
}
