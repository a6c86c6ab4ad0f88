import { Fragment, useEffect, useState } from 'react';
import { useSearchParams } from 'react-router';
import { useMutation, useQuery } from '@tanstack/react-query';
import type { ArtifactFile, ForjaClient } from '@forja/client';
import { useClient } from '../../session';
import { keys } from '../../hooks';
import { Button, EmptyState, ErrorText, Spinner, QueryError } from '../../components/ui';
import { DownloadIcon, FileIcon, FolderIcon } from '../../components/icons';
import { formatBytes } from './format';
import { parseDelimited } from './csv';

const CSV_ROWS = 20;
/** How much of a file a preview reads; the rest stays on the server until someone downloads it. */
const LIMIT = { text: 1024 * 1024, json: 4 * 1024 * 1024, csv: 256 * 1024, sniff: 64 * 1024, image: 25 * 1024 * 1024 };

type Kind = 'image' | 'json' | 'csv' | 'tsv' | 'text' | 'unknown';
const extensions: Record<string, Kind> = {
  png: 'image',
  jpg: 'image',
  jpeg: 'image',
  gif: 'image',
  webp: 'image',
  svg: 'image',
  bmp: 'image',
  json: 'json',
  csv: 'csv',
  tsv: 'tsv',
  txt: 'text',
  log: 'text',
  yaml: 'text',
  yml: 'text',
  md: 'text',
  py: 'text',
  toml: 'text',
  ini: 'text',
  cfg: 'text',
  xml: 'text',
  html: 'text',
  sh: 'text',
  sql: 'text',
  r: 'text',
  ipynb: 'json',
};
/** MLflow model folders hold these with no extension. */
const textNames = new Set(['MLmodel', 'Dockerfile', 'LICENSE', 'README']);

function kindOf(path: string): Kind {
  const name = baseName(path);
  if (textNames.has(name)) return 'text';
  const dot = name.lastIndexOf('.');
  return dot > 0 ? (extensions[name.slice(dot + 1).toLowerCase()] ?? 'unknown') : 'unknown';
}

const baseName = (path: string) => path.slice(path.lastIndexOf('/') + 1);

type Preview =
  | { kind: 'image'; blob: Blob }
  | { kind: 'text'; text: string; truncated: boolean; pretty?: boolean }
  | { kind: 'table'; rows: string[][]; more: boolean }
  | { kind: 'binary' }
  | { kind: 'too-large' };

/** Reads at most `max` bytes of a response body and cancels the rest of the download. */
async function readPrefix(res: Response, max: number, size: number | null): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  const reader = res.body!.getReader();
  const chunks: Uint8Array[] = [];
  let n = 0;
  for (;;) {
    if (n >= max) {
      await reader.cancel();
      break;
    }
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    n += value.length;
  }
  const bytes = new Uint8Array(n);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return { bytes: bytes.subarray(0, max), truncated: n > max || (n >= max && (size === null || size > max)) };
}

/** A file is shown as text when its start has no NUL byte and decodes as UTF-8 (a cut multi-byte character at the end is allowed). */
function asText(bytes: Uint8Array): string | undefined {
  if (bytes.subarray(0, 8000).includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, Math.max(0, bytes.length - 3)));
  } catch {
    return undefined;
  }
}

/** Whose files: a run's artifacts, or an MLflow 3 logged model's files (stored under the model, not its run). */
export type ArtifactOwner = { kind: 'run' | 'logged-model'; id: string };

const listOf = (client: ForjaClient, owner: ArtifactOwner, dir: string) =>
  owner.kind === 'run' ? client.runs.listArtifacts(owner.id, dir) : client.loggedModels.listArtifacts(owner.id, dir);
export const downloadOf = (client: ForjaClient, owner: ArtifactOwner, path: string, options: { signal?: AbortSignal } = {}) =>
  owner.kind === 'run' ? client.runs.downloadArtifact(owner.id, path, options) : client.loggedModels.downloadArtifact(owner.id, path, options);
// A run's keys stay under keys.run so refreshing the run refreshes its files.
const listKey = (owner: ArtifactOwner, dir: string) => (owner.kind === 'run' ? keys.artifacts(owner.id, dir) : [owner.kind, owner.id, 'artifacts', dir]);
const fileKey = (owner: ArtifactOwner, path: string) => (owner.kind === 'run' ? keys.artifact(owner.id, path) : [owner.kind, owner.id, 'artifact', path]);

async function loadPreview(client: ForjaClient, owner: ArtifactOwner, file: ArtifactFile, signal: AbortSignal): Promise<Preview> {
  const kind = kindOf(file.path);
  if (kind === 'image' && file.size !== null && file.size > LIMIT.image) return { kind: 'too-large' };
  const res = await downloadOf(client, owner, file.path, { signal });
  if (kind === 'image') return { kind: 'image', blob: await res.blob() };
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  if (kind === 'csv' || kind === 'tsv') {
    const { bytes, truncated } = await readPrefix(res, LIMIT.csv, file.size);
    const rows = parseDelimited(decode(bytes), kind === 'csv' ? ',' : '\t', CSV_ROWS + 2);
    // A cut-off file ends in a partial line; it only counts when more rows follow it anyway.
    if (truncated && rows.length <= CSV_ROWS + 1) rows.pop();
    return { kind: 'table', rows: rows.slice(0, CSV_ROWS + 1), more: rows.length > CSV_ROWS + 1 || truncated };
  }
  if (kind === 'json') {
    const { bytes, truncated } = await readPrefix(res, LIMIT.json, file.size);
    const text = decode(bytes);
    if (!truncated) {
      try {
        return { kind: 'text', text: JSON.stringify(JSON.parse(text), null, 2), truncated: false, pretty: true };
      } catch {
        // Not valid JSON after all: show it as it is.
      }
    }
    return { kind: 'text', text, truncated };
  }
  const { bytes, truncated } = await readPrefix(res, kind === 'text' ? LIMIT.text : LIMIT.sniff, file.size);
  const text = kind === 'text' ? decode(bytes) : asText(bytes);
  return text === undefined ? { kind: 'binary' } : { kind: 'text', text, truncated };
}

/**
 * Artifacts one directory at a time, with a preview of the chosen file. Both live in the URL, as
 * `dir` and `file` after `paramPrefix`, so two browsers on one page keep apart.
 */
export function ArtifactBrowser({
  owner,
  rootUri,
  rootLabel = 'artifacts',
  paramPrefix = '',
}: {
  owner: ArtifactOwner;
  rootUri: string;
  rootLabel?: string;
  paramPrefix?: string;
}) {
  const client = useClient();
  const [params, setParams] = useSearchParams();
  const dirParam = `${paramPrefix}dir`;
  const fileParam = `${paramPrefix}file`;
  const dir = params.get(dirParam) ?? '';
  const filePath = params.get(fileParam);

  const listing = useQuery({ queryKey: listKey(owner, dir), queryFn: () => listOf(client, owner, dir) });
  const go = (changes: { dir?: string; file?: string | null }) => {
    const next = new URLSearchParams(params);
    if (changes.dir !== undefined) {
      if (changes.dir) next.set(dirParam, changes.dir);
      else next.delete(dirParam);
    }
    if (changes.file === null) next.delete(fileParam);
    else if (changes.file !== undefined) next.set(fileParam, changes.file);
    setParams(next);
  };

  const entries = [...(listing.data?.files ?? [])].sort((a, b) => Number(b.isDir) - Number(a.isDir) || a.path.localeCompare(b.path));
  const crumbs = dir ? dir.split('/') : [];
  const chosen = filePath ? (listing.data?.files.find((f) => f.path === filePath) ?? { path: filePath, isDir: false, size: null }) : undefined;

  return (
    <div className="artifact-browser" data-testid="artifact-browser">
      <div className="card artifact-list">
        <div className="card-head artifact-crumbs" aria-label="Folder">
          <button type="button" className="crumb" onClick={() => go({ dir: '', file: null })} title={rootUri}>
            {rootLabel}
          </button>
          {crumbs.map((c, i) => (
            <Fragment key={i}>
              <span className="muted">/</span>
              <button type="button" className="crumb" onClick={() => go({ dir: crumbs.slice(0, i + 1).join('/'), file: null })}>
                {c}
              </button>
            </Fragment>
          ))}
        </div>
        {listing.isPending ? (
          <Spinner />
        ) : listing.isError ? (
          <div className="card-pad">
            <QueryError query={listing} />
          </div>
        ) : (
          <ul className="artifact-entries" data-testid="artifact-entries">
            {dir && (
              <li>
                <button type="button" className="artifact-entry" onClick={() => go({ dir: crumbs.slice(0, -1).join('/'), file: null })}>
                  <FolderIcon size={15} className="muted" />
                  <span className="muted">..</span>
                </button>
              </li>
            )}
            {entries.map((f) => (
              <li key={f.path}>
                <button
                  type="button"
                  className={`artifact-entry${f.path === filePath ? ' active' : ''}`}
                  onClick={() => (f.isDir ? go({ dir: f.path, file: null }) : go({ file: f.path }))}
                  data-testid="artifact-entry"
                  data-path={f.path}
                >
                  {f.isDir ? <FolderIcon size={15} className="folder-icon" /> : <FileIcon size={15} className="muted" />}
                  <span className="artifact-name">{baseName(f.path)}</span>
                  <span className="muted small">{f.isDir ? '' : formatBytes(f.size)}</span>
                </button>
              </li>
            ))}
            {entries.length === 0 && <li className="card-pad muted">{dir ? 'This folder is empty.' : 'No artifacts logged.'}</li>}
          </ul>
        )}
      </div>
      <div className="card artifact-preview" data-testid="artifact-preview">
        {chosen ? (
          <ArtifactPreview key={chosen.path} owner={owner} file={chosen} />
        ) : (
          <EmptyState icon={<FileIcon size={26} />} title="Choose a file">
            Text, JSON, YAML and logs show as text, CSV as a table of its first rows, images inline.
          </EmptyState>
        )}
      </div>
    </div>
  );
}

function ArtifactPreview({ owner, file }: { owner: ArtifactOwner; file: ArtifactFile }) {
  const client = useClient();
  const preview = useQuery({
    queryKey: fileKey(owner, file.path),
    queryFn: ({ signal }) => loadPreview(client, owner, file, signal),
    staleTime: 60_000,
    // Previews can be megabytes; drop them soon after they leave the screen.
    gcTime: 30_000,
  });
  const download = useMutation({
    mutationFn: async () => {
      const blob = await (await downloadOf(client, owner, file.path)).blob();
      // The download needs the Authorization header, so it goes through a Blob rather than a plain link.
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = baseName(file.path);
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    },
  });

  return (
    <>
      <div className="card-head">
        <h3 className="mono artifact-title" title={file.path}>
          {file.path}
        </h3>
        {file.size !== null && <span className="muted small">{formatBytes(file.size)}</span>}
        <div className="toolbar-spacer" />
        <Button size="sm" onClick={() => download.mutate()} pending={download.isPending} data-testid="artifact-download">
          <DownloadIcon size={14} /> Download
        </Button>
      </div>
      {download.error && (
        <div className="card-pad">
          <ErrorText error={download.error} />
        </div>
      )}
      <div className="preview-body">
        {preview.isPending ? (
          <Spinner label="Loading preview…" />
        ) : preview.isError ? (
          <div className="card-pad">
            <QueryError query={preview} />
          </div>
        ) : (
          <PreviewBody preview={preview.data} name={baseName(file.path)} />
        )}
      </div>
    </>
  );
}

function PreviewBody({ preview, name }: { preview: Preview; name: string }) {
  switch (preview.kind) {
    case 'image':
      return <ImagePreview blob={preview.blob} name={name} />;
    case 'text':
      return (
        <>
          {/* Focusable, so a keyboard can scroll a long file. */}
          <pre className="artifact-text" data-testid="artifact-text" data-pretty={preview.pretty ? 'true' : undefined} tabIndex={0}>
            {preview.text}
          </pre>
          {preview.truncated && <p className="preview-note muted small">Only the beginning of the file is shown. Download it to see the rest.</p>}
        </>
      );
    case 'table': {
      const [header = [], ...body] = preview.rows;
      return (
        <>
          <DataTable header={header} rows={body} testId="artifact-csv" />
          <p className="preview-note muted small">
            {preview.more ? `The first ${body.length} rows. Download the file for the rest.` : `${body.length} row${body.length === 1 ? '' : 's'}.`}
          </p>
        </>
      );
    }
    case 'binary':
      return <EmptyState title="No preview for this file">It is not text or an image. Download it to open it.</EmptyState>;
    case 'too-large':
      return <EmptyState title="Too large to preview">Download the image to open it.</EmptyState>;
  }
}

function ImagePreview({ blob, name }: { blob: Blob; name: string }) {
  const [url, setUrl] = useState<string>();
  useEffect(() => {
    const u = URL.createObjectURL(blob);
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [blob]);
  return <div className="artifact-image-wrap">{url && <img src={url} alt={name} className="artifact-image" data-testid="artifact-image" />}</div>;
}

/** Rows of cells under a header, as a CSV preview or a model's input example shows them. */
export function DataTable({ header, rows, testId }: { header: string[]; rows: string[][]; testId: string }) {
  return (
    <div className="table-scroll">
      <table className="table csv-table" data-testid={testId}>
        <thead>
          <tr>
            {header.map((h, i) => (
              <th key={i}>{h}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i}>
              {header.map((_h, j) => (
                <td key={j}>{r[j] ?? ''}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
