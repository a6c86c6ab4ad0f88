import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import { AppError, invalid } from '../errors.js';

const MAX_ENTRIES = 10_000;
const MAX_UNZIPPED = 2 * 1024 * 1024 * 1024;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

/**
 * Unpacks an uploaded zip of extra files into `dir`, keeping its folders. Every entry is checked
 * before anything is written: no absolute paths, no "..", no links, no name already taken, and a
 * cap on the unpacked size (a zip bomb is a 413, not a full disk).
 */
export async function unzipExtras(zipFile: string, dir: string, taken: Set<string>): Promise<{ name: string; size: number }[]> {
  const zip = await yauzl.openPromise(zipFile, { lazyEntries: true, autoClose: false, strictFileNames: false }).catch((err: Error) => {
    throw invalid(`"${path.basename(zipFile)}" is not a readable zip file: ${err.message}`);
  });
  const damaged = (name: string, err: Error) =>
    invalid(`"${path.basename(zipFile)}" is damaged: its entry "${name.slice(0, 200)}" cannot be unpacked (${err.message}). Make the zip again.`);
  const outside = (name: string) =>
    invalid(`"${path.basename(zipFile)}" holds "${name.slice(0, 200)}", a path outside its folder: zips may only hold relative paths without "..".`);
  try {
    const entries: yauzl.Entry[] = [];
    let total = 0;
    const listing = (zip as unknown as { eachEntry(): AsyncIterable<yauzl.Entry> }).eachEntry();
    for await (const entry of catching(listing, (err) => {
      // yauzl refuses such names itself, before we see the entry.
      const bad = /(?:invalid relative path|absolute path): (.*)$/.exec(err.message);
      return bad ? outside(bad[1]!) : invalid(`"${path.basename(zipFile)}" is not a readable zip file: ${err.message}`);
    })) {
      const name = entry.fileName;
      if (entries.length >= MAX_ENTRIES) throw invalid(`"${path.basename(zipFile)}" has more than ${MAX_ENTRIES} entries.`);
      if (name.startsWith('/') || name.includes('\\') || /^[A-Za-z]:/.test(name) || name.split('/').some((part) => part === '..')) throw outside(name);
      if (((entry.externalFileAttributes >>> 16) & S_IFMT) === S_IFLNK)
        throw invalid(`"${path.basename(zipFile)}" holds a symbolic link ("${name.slice(0, 200)}"): send the file itself.`);
      if (name.endsWith('/')) continue;
      if (taken.has(name)) throw invalid(`"${path.basename(zipFile)}" holds "${name}", which another uploaded file is already named.`);
      total += entry.uncompressedSize;
      if (total > MAX_UNZIPPED) throw new AppError('PAYLOAD_TOO_LARGE', `"${path.basename(zipFile)}" unpacks to more than 2 GiB.`);
      entries.push(entry);
    }
    const out: { name: string; size: number }[] = [];
    for (const entry of entries) {
      const target = path.join(dir, entry.fileName);
      await mkdir(path.dirname(target), { recursive: true });
      const source = await zip.openReadStreamPromise(entry).catch((err: Error) => {
        throw damaged(entry.fileName, err);
      });
      let readFailed: Error | undefined;
      source.on('error', (err) => (readFailed = err));
      try {
        await pipeline(source, createWriteStream(target, { flags: 'wx' }));
      } catch (err) {
        // yauzl checks each entry against the sizes it declares: a lie there is a damaged zip, not our fault.
        if (readFailed) throw damaged(entry.fileName, readFailed);
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw invalid(`"${path.basename(zipFile)}" holds "${entry.fileName}" twice.`);
        throw err;
      }
      out.push({ name: entry.fileName, size: entry.uncompressedSize });
    }
    return out;
  } finally {
    zip.close();
  }
}

async function* catching<T>(source: AsyncIterable<T>, map: (err: Error) => Error): AsyncIterable<T> {
  try {
    yield* source;
  } catch (err) {
    throw map(err as Error);
  }
}
