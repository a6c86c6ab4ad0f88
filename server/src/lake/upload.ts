import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError, invalid } from '../errors.js';
import type { FileFormat } from './engine.js';

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;
const DELIMITERS = [0x2c, 0x3b, 0x09, 0x7c]; // , ; tab |
const MAX_HEADER_BYTES = 1024 * 1024;

/**
 * Checks a CSV as it streams past: finds the delimiter in the header and refuses the first record
 * with another number of fields, naming its line (DuckDB's own reader only says "could not sniff").
 */
export class CsvShapeCheck extends Transform {
  delimiter: number | undefined;
  private header: number[] = [];
  private inQuote = false;
  private fields = 1;
  private expected = 0;
  private line = 1;
  private recordLine = 1;
  private recordBytes = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null, data?: Buffer) => void): void {
    try {
      if (this.delimiter === undefined) this.scanHeader(chunk);
      else this.scan(chunk, 0);
      done(null, chunk);
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: (err?: Error | null) => void): void {
    try {
      if (this.delimiter === undefined) this.finishHeader(this.header.length);
      if (this.inQuote) throw invalid(`CSV line ${this.recordLine}: a quoted field is never closed.`);
      if (this.recordBytes > 0) this.endRecord();
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  private scanHeader(chunk: Buffer): void {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b === QUOTE) this.inQuote = !this.inQuote;
      if (b === LF && !this.inQuote) {
        this.finishHeader(this.header.length);
        this.line = 2;
        this.recordLine = 2;
        this.scan(chunk, i + 1);
        return;
      }
      this.header.push(b);
      if (this.header.length > MAX_HEADER_BYTES) throw invalid('The CSV header line is longer than 1 MiB: is this a CSV file?');
    }
  }

  private finishHeader(length: number): void {
    const counts = DELIMITERS.map(() => 0);
    let quoted = false;
    for (let i = 0; i < length; i++) {
      const b = this.header[i]!;
      if (b === QUOTE) quoted = !quoted;
      else if (!quoted) for (const [j, d] of DELIMITERS.entries()) counts[j]! += b === d ? 1 : 0;
    }
    const best = counts.indexOf(Math.max(...counts));
    this.delimiter = DELIMITERS[best]!;
    this.expected = counts[best]! + 1;
    if (length === 0) throw invalid('The CSV is empty: it needs a header line with the column names.');
    this.inQuote = false;
    this.header = [];
  }

  private scan(chunk: Buffer, from: number): void {
    const d = this.delimiter!;
    for (let i = from; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b === QUOTE) {
        this.inQuote = !this.inQuote;
        this.recordBytes++;
      } else if (b === LF) {
        this.line++;
        if (!this.inQuote) {
          if (this.recordBytes > 0) this.endRecord();
          this.recordLine = this.line;
        } else this.recordBytes++;
      } else if (b === d && !this.inQuote) {
        this.fields++;
        this.recordBytes++;
      } else if (b !== CR) this.recordBytes++;
    }
  }

  private endRecord(): void {
    if (this.fields !== this.expected) throw invalid(`CSV line ${this.recordLine} has ${this.fields} fields; the header has ${this.expected}.`);
    this.fields = 1;
    this.recordBytes = 0;
  }
}

class ByteLimit extends Transform {
  private seen = 0;
  constructor(private readonly limit: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null, data?: Buffer) => void): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) done(tooLarge(this.limit));
    else done(null, chunk);
  }
  get bytes(): number {
    return this.seen;
  }
}

export const tooLarge = (limit: number) =>
  new AppError(
    'PAYLOAD_TOO_LARGE',
    `The upload is larger than ${Math.round(limit / 1024 / 1024)} MiB, the lake's limit (FORJA_LAKE_MAX_UPLOAD_MB). Split it into appends.`,
  );

/** Streams a request body to a file, within the size limit; a CSV is checked on the way. */
export async function stageBody(body: Readable, file: string, format: FileFormat, limitBytes: number): Promise<{ bytes: number; delimiter?: string }> {
  const limit = new ByteLimit(limitBytes);
  const csv = format === 'csv' ? new CsvShapeCheck() : undefined;
  const written = pipeline([limit, ...(csv ? [csv] : []), createWriteStream(file)]);
  body.pipe(limit);
  try {
    await written;
  } catch (err) {
    // Read the rest of a refused body without keeping it, so the client gets the answer, not a reset.
    body.unpipe(limit);
    body.resume();
    await rm(file, { force: true });
    throw err;
  }
  if (limit.bytes === 0) throw invalid('The body is empty: send the rows as Parquet or CSV.');
  return { bytes: limit.bytes, delimiter: csv?.delimiter === undefined ? undefined : String.fromCharCode(csv.delimiter) };
}
