import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A real HTTP receiver for webhook tests: records every request and answers with the next queued status (200 when none). */
export async function startReceiver() {
  const received: Received[] = [];
  const statuses: number[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = statuses.shift() ?? 200;
      res.end(res.statusCode === 200 ? 'thanks' : 'receiver is down');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, received, statuses, close: () => new Promise((r) => server.close(r)) };
}

/** Checks a delivery's signature as a receiver should: HMAC-SHA256 of "<timestamp>.<body>" under the secret. */
export const verify = (secret: string, r: Received) =>
  r.headers['x-forja-signature'] ===
  'sha256=' +
    createHmac('sha256', secret)
      .update(`${String(r.headers['x-forja-timestamp'])}.${r.body}`)
      .digest('hex');
