import {
  WebhookCreateSchema,
  WebhookUpdateSchema,
  type Webhook,
  type WebhookCreate,
  type WebhookDelivery,
  type WebhookEvent,
  type WebhookUpdate,
} from '@forja/contracts';
import { requireScopeRole } from '../auth/access.js';
import type { AuditLog } from '../auth/audit.js';
import type { GroupScope, RequestContext } from '../auth/principal.js';
import { generateSigningSecret, seal } from '../auth/secrets.js';
import { isUniqueViolation } from '../db/database.js';
import { newId } from '../db/ids.js';
import { decodePageToken, pageOf } from '../db/paging.js';
import { alreadyExists, notFound } from '../errors.js';
import type { DomainEvent } from '../events.js';
import type { JobEngine } from '../jobs/engine.js';
import { DELIVER_KIND } from './deliver.js';
import type { DeliveryRow, WebhookRow, WebhooksStore } from './store.js';

export interface WebhooksServiceOptions {
  store: WebhooksStore;
  engine: JobEngine;
  audit: AuditLog;
  /** Seals webhook secrets at rest. */
  secretKey: Buffer;
  /** The first wait before a failed delivery is retried. */
  retryMs: number;
  clock?: () => number;
}

/** Group admins manage their group's webhooks; events become signed deliveries on the job engine. */
export class WebhooksService {
  private readonly store: WebhooksStore;
  private readonly engine: JobEngine;
  private readonly audit: AuditLog;
  private readonly secretKey: Buffer;
  private readonly retryMs: number;
  private readonly clock: () => number;

  constructor(options: WebhooksServiceOptions) {
    this.store = options.store;
    this.engine = options.engine;
    this.audit = options.audit;
    this.secretKey = options.secretKey;
    this.retryMs = options.retryMs;
    this.clock = options.clock ?? Date.now;
  }

  async list(scope: GroupScope): Promise<Webhook[]> {
    requireScopeRole(scope, 'admin');
    return (await this.store.list(scope.id)).map((r) => toWebhook(r, scope.name));
  }

  async get(scope: GroupScope, id: string): Promise<Webhook> {
    return toWebhook(await this.require(scope, id), scope.name);
  }

  async create(ctx: RequestContext, scope: GroupScope, input: WebhookCreate): Promise<Webhook & { secret: string }> {
    requireScopeRole(scope, 'admin');
    const body = WebhookCreateSchema.parse(input);
    const secret = body.secret ?? generateSigningSecret();
    const now = this.clock();
    const row: WebhookRow = {
      id: newId(),
      group_id: scope.id,
      name: body.name,
      url: body.url,
      events: JSON.stringify([...new Set(body.events)]),
      description: body.description,
      active: body.active ? 1 : 0,
      secret_sealed: seal(this.secretKey, secret),
      created_by: ctx.principal.name,
      created_at: now,
      updated_at: now,
    };
    try {
      await this.store.insert(row);
    } catch (err) {
      if (isUniqueViolation(err)) throw alreadyExists(`A webhook named "${body.name}" already exists in group "${scope.name}".`);
      throw err;
    }
    await this.audit.record(ctx, {
      action: 'webhook.create',
      resourceType: 'webhook',
      resourceId: row.id,
      groupId: scope.id,
      details: { name: row.name, url: row.url, events: body.events },
    });
    return { ...toWebhook(row, scope.name), secret };
  }

  async update(ctx: RequestContext, scope: GroupScope, id: string, input: WebhookUpdate): Promise<Webhook & { secret?: string }> {
    const row = await this.require(scope, id);
    const body = WebhookUpdateSchema.parse(input);
    const secret = body.rotateSecret ? generateSigningSecret() : undefined;
    const set: Partial<WebhookRow> = { updated_at: this.clock() };
    if (body.name !== undefined) set.name = body.name;
    if (body.url !== undefined) set.url = body.url;
    if (body.events !== undefined) set.events = JSON.stringify([...new Set(body.events)]);
    if (body.description !== undefined) set.description = body.description;
    if (body.active !== undefined) set.active = body.active ? 1 : 0;
    if (secret) set.secret_sealed = seal(this.secretKey, secret);
    try {
      await this.store.update(id, set);
    } catch (err) {
      if (isUniqueViolation(err)) throw alreadyExists(`A webhook named "${body.name}" already exists in group "${scope.name}".`);
      throw err;
    }
    const { secret_sealed: _sealed, ...changed } = set;
    await this.audit.record(ctx, {
      action: 'webhook.update',
      resourceType: 'webhook',
      resourceId: id,
      groupId: scope.id,
      details: { ...changed, rotatedSecret: Boolean(secret) },
    });
    const updated = toWebhook({ ...row, ...set }, scope.name);
    return secret ? { ...updated, secret } : updated;
  }

  async remove(ctx: RequestContext, scope: GroupScope, id: string): Promise<void> {
    const row = await this.require(scope, id);
    await this.store.remove(id);
    await this.audit.record(ctx, { action: 'webhook.delete', resourceType: 'webhook', resourceId: id, groupId: scope.id, details: { name: row.name } });
  }

  async deliveries(scope: GroupScope, id: string, query: { limit: number; pageToken?: string }): Promise<{ items: WebhookDelivery[]; nextPageToken?: string }> {
    await this.require(scope, id);
    const offset = decodePageToken(query.pageToken);
    const { page, nextPageToken } = pageOf(await this.store.deliveries(id, offset, query.limit + 1), offset, query.limit);
    return { items: page.map(toDelivery), nextPageToken };
  }

  /** Sends a `ping` now, to check the URL and the receiver's signature check. */
  async ping(ctx: RequestContext, scope: GroupScope, id: string): Promise<WebhookDelivery> {
    const row = await this.require(scope, id);
    const event: DomainEvent = {
      type: 'ping',
      groupId: scope.id,
      groupName: scope.name,
      actor: ctx.principal.name,
      at: this.clock(),
      data: { webhook: row.name },
    };
    return toDelivery(await this.enqueueDelivery(row, event));
  }

  /** Sends a past delivery's payload again, as a new delivery. */
  async redeliver(scope: GroupScope, id: string, deliveryId: string): Promise<WebhookDelivery> {
    const row = await this.require(scope, id);
    const old = await this.store.delivery(deliveryId);
    if (!old || old.webhook_id !== id) throw notFound('Delivery', deliveryId);
    return toDelivery(await this.deliver(row, old.event, old.payload));
  }

  /** The event bus listener: one delivery per active hook subscribed to the event. */
  async onEvent(event: DomainEvent): Promise<void> {
    const hooks = (await this.store.active(event.groupId)).filter((h) => (JSON.parse(h.events) as string[]).includes(event.type as WebhookEvent));
    for (const hook of hooks) await this.enqueueDelivery(hook, event);
  }

  private enqueueDelivery(hook: WebhookRow, event: DomainEvent): Promise<DeliveryRow> {
    const id = newId();
    const payload = JSON.stringify({ id, event: event.type, timestamp: event.at, group: event.groupName, actor: event.actor, data: event.data });
    return this.deliver(hook, event.type, payload, id);
  }

  private async deliver(hook: WebhookRow, eventType: string, payload: string, id = newId()): Promise<DeliveryRow> {
    const row: DeliveryRow = {
      id,
      webhook_id: hook.id,
      event: eventType,
      payload,
      status: 'pending',
      attempts: 0,
      response_status: null,
      response_body: null,
      error: null,
      duration_ms: null,
      job_id: null,
      created_at: this.clock(),
      last_attempt_at: null,
      delivered_at: null,
    };
    // The delivery and its job commit together: neither exists without the other.
    await this.store.db.transaction(async (trx) => {
      const job = await this.engine.enqueue(
        { kind: DELIVER_KIND, groupId: hook.group_id, params: { deliveryId: id, webhook: hook.name }, backoffMs: this.retryMs },
        trx,
      );
      row.job_id = job?.id ?? null;
      await this.store.insertDelivery(trx, row);
    });
    this.engine.wake();
    return row;
  }

  private async require(scope: GroupScope, id: string): Promise<WebhookRow> {
    requireScopeRole(scope, 'admin');
    const row = await this.store.byId(scope.id, id);
    if (!row) throw notFound('Webhook', id);
    return row;
  }
}

function toWebhook(r: WebhookRow, group: string): Webhook {
  return {
    id: r.id,
    group,
    name: r.name,
    url: r.url,
    events: JSON.parse(r.events) as WebhookEvent[],
    description: r.description,
    active: r.active === 1,
    createdBy: r.created_by,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function toDelivery(r: DeliveryRow): WebhookDelivery {
  return {
    id: r.id,
    webhookId: r.webhook_id,
    event: r.event,
    status: r.status,
    attempts: r.attempts,
    responseStatus: r.response_status,
    responseBody: r.response_body,
    error: r.error,
    durationMs: r.duration_ms,
    jobId: r.job_id,
    payload: JSON.parse(r.payload) as Record<string, unknown>,
    createdAt: r.created_at,
    lastAttemptAt: r.last_attempt_at,
    deliveredAt: r.delivered_at,
  };
}
