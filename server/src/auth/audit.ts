import type { AuditEntry } from '@forja/contracts';
import { newId } from '../db/ids.js';
import { forbidden } from '../errors.js';
import type { AccessPolicy } from './access.js';
import type { AuditFilter, AuditResource, AuditRow, AuthStore } from './store.js';
import type { RequestContext } from './principal.js';

export interface AuditEvent {
  action: string;
  resourceType: string;
  resourceId?: string | null;
  groupId?: string | null;
  details?: Record<string, unknown>;
}

export interface AuditLogOptions {
  store: AuthStore;
  access: AccessPolicy;
  clock?: () => number;
}

/** Records who changed what. Every domain writes through this, so the trail has one shape. */
export class AuditLog {
  private readonly store: AuthStore;
  private readonly access: AccessPolicy;
  private readonly clock: () => number;

  constructor(options: AuditLogOptions) {
    this.store = options.store;
    this.access = options.access;
    this.clock = options.clock ?? Date.now;
  }

  async record(ctx: RequestContext, event: AuditEvent): Promise<void> {
    const p = ctx.principal;
    await this.store.insertAudit({
      id: newId(),
      at: this.clock(),
      actor_id: p.userId,
      actor_name: p.name,
      // The token, not only the user: what a stolen token did must stand apart from its owner's own work.
      actor_token_id: p.tokenId,
      actor_token_name: p.tokenKind === 'session' ? 'session' : p.tokenName,
      action: event.action,
      resource_type: event.resourceType,
      resource_id: event.resourceId ?? null,
      group_id: event.groupId ?? null,
      ip: ctx.ip,
      request_id: ctx.requestId,
      details: event.details ? JSON.stringify(event.details) : null,
    });
  }

  /** System admins read everything; a group admin reads the entries of the groups they administer. */
  async listFor(
    ctx: RequestContext,
    query: { group?: string; actor?: string; token?: string; action?: string; limit: number; pageToken?: string },
  ): Promise<{ items: AuditEntry[]; nextPageToken?: string }> {
    const filter: AuditFilter = { actorName: query.actor, tokenId: query.token, action: query.action, beforeId: query.pageToken, limit: query.limit };
    const p = ctx.principal;
    if (query.group) {
      filter.groupId = (await this.access.requireGroup(p, query.group, 'admin')).id;
    } else if (!p.isAdmin) {
      if (!p.userId) throw forbidden('Name the group whose audit log you want to read (?group=).');
      const adminOf = (await this.store.membershipsOfUser(p.userId)).filter((m) => m.role === 'admin').map((m) => m.group_id);
      if (adminOf.length === 0) throw forbidden('The audit log is readable by system administrators and group admins only.');
      filter.groupIds = adminOf;
    }
    return this.list(filter);
  }

  /** A group's entries about one resource and those named under it, newest first. No access check: the calling service has made its own. */
  trailOf(groupId: string, resource: AuditResource, limit: number): Promise<AuditRow[]> {
    return this.store.auditOfResource(groupId, resource, limit);
  }

  private async list(filter: AuditFilter): Promise<{ items: AuditEntry[]; nextPageToken?: string }> {
    const rows = await this.store.listAudit({ ...filter, limit: filter.limit + 1 });
    const page = rows.slice(0, filter.limit);
    const items = page.map(toAuditEntry);
    return rows.length > filter.limit ? { items, nextPageToken: page.at(-1)!.id } : { items };
  }
}

function toAuditEntry(row: AuditRow & { group_name: string | null }): AuditEntry {
  return {
    id: row.id,
    at: row.at,
    actor: row.actor_name,
    actorTokenId: row.actor_token_id,
    actorTokenName: row.actor_token_name,
    action: row.action,
    resourceType: row.resource_type,
    resourceId: row.resource_id,
    group: row.group_name,
    ip: row.ip,
    requestId: row.request_id,
    details: row.details ? (JSON.parse(row.details) as Record<string, unknown>) : null,
  };
}
