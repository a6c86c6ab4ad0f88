import { createHmac } from 'node:crypto';
import { unseal } from '../auth/secrets.js';
import type { JobKind } from '../jobs/catalog.js';
import { PermanentJobError, type JobHandler } from '../jobs/engine.js';
import { VERSION } from '../version.js';
import type { WebhooksStore } from './store.js';

export const DELIVER_KIND = 'webhook.deliver' satisfies JobKind;
const RECEIVER_TIMEOUT_MS = 10_000;

/**
 * The signature receivers check: HMAC-SHA256 over "<timestamp>.<body>" with the hook's secret.
 * The timestamp is inside what is signed, so an old delivery cannot be replayed as new.
 */
export function signature(secret: string, timestamp: string, body: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** One attempt at one delivery; a non-2xx answer throws so the job engine retries with backoff. */
export function deliveryHandler(store: WebhooksStore, secretKey: Buffer, clock: () => number): JobHandler<typeof DELIVER_KIND> {
  return async (ctx) => {
    const { deliveryId } = ctx.job.params;
    const delivery = await store.delivery(deliveryId);
    if (!delivery) throw new PermanentJobError(`Delivery ${deliveryId} no longer exists (its webhook was deleted).`);
    const hook = await store.byIdAnyGroup(delivery.webhook_id);
    if (!hook) throw new PermanentJobError('The webhook was deleted.');
    const body = delivery.payload;
    const timestamp = String(Math.floor(clock() / 1000));
    const started = clock();
    const last = ctx.job.attempt >= ctx.job.max_attempts;
    let status: number | null = null;
    let text: string | null = null;
    let error: string | null = null;
    try {
      const res = await fetch(hook.url, {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(RECEIVER_TIMEOUT_MS)]),
        headers: {
          'content-type': 'application/json',
          'user-agent': `Forja-Webhooks/${VERSION}`,
          'x-forja-event': delivery.event,
          'x-forja-delivery': delivery.id,
          'x-forja-timestamp': timestamp,
          'x-forja-signature': signature(unseal(secretKey, hook.secret_sealed), timestamp, body),
        },
        body,
      });
      status = res.status;
      text = (await res.text()).slice(0, 2000);
      if (status < 200 || status >= 300) error = `The receiver answered HTTP ${status}.`;
    } catch (err) {
      const e = err as Error;
      error =
        e.name === 'TimeoutError'
          ? `The receiver did not answer within ${RECEIVER_TIMEOUT_MS / 1000} s.`
          : `Could not reach ${new URL(hook.url).host}: ${causeOf(e)}`;
    }
    const now = clock();
    await store.updateDelivery(delivery.id, {
      status: error ? (last ? 'failed' : 'retrying') : 'delivered',
      attempts: ctx.job.attempt,
      response_status: status,
      response_body: text,
      error,
      duration_ms: now - started,
      last_attempt_at: now,
      delivered_at: error ? null : now,
    });
    ctx.log(`POST ${hook.url} → ${status ?? 'no answer'} in ${now - started} ms`);
    if (error) throw new Error(error);
    return { status };
  };
}

function causeOf(err: Error): string {
  const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
  // fetch refuses ports such as 25 or 6000 outright (the Fetch standard's "bad ports").
  if (cause?.message === 'bad port') return 'this port is blocked for HTTP clients (the Fetch standard\'s "bad ports"); use another port';
  return cause?.code ?? cause?.message ?? err.message;
}
