import { chmod, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';

export interface ApiRelay {
  /** The socket to bind into the sandbox. */
  socket: string;
  close(): Promise<void>;
}

/**
 * A Unix socket that forwards to the Forja API, for one job's sandbox: the only way out of a sandbox
 * without network. Each job gets its own, closed when the job ends. The path lives in a short private
 * folder because socket paths are limited to 107 bytes and data directories can be deep.
 */
export async function openApiRelay(apiUrl: string): Promise<ApiRelay> {
  const url = new URL(apiUrl);
  const secure = url.protocol === 'https:';
  const port = Number(url.port || (secure ? 443 : 80));
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'forja-api-'));
  const socket = path.join(dir, 'api.sock');
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = secure ? tls.connect({ host, port, servername: host }) : net.connect({ host, port });
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('close', () => open.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, () => resolve());
  });
  // The sandbox's user (another uid on a root server) must be able to connect; only that sandbox sees it.
  await chmod(socket, 0o666);
  return {
    socket,
    close: async () => {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
