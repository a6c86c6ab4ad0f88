import {
  AlertActionSchema,
  AlertRuleCreateSchema,
  AlertRuleUpdateSchema,
  type Alert,
  type AlertRule,
  type AlertRuleCreate,
  type AlertStatusSchema,
} from '@forja/contracts';
import type { z } from 'zod';
import { requireScopeRole } from '../auth/access.js';
import type { AuditLog } from '../auth/audit.js';
import type { GroupScope, RequestContext } from '../auth/principal.js';
import { isUniqueViolation } from '../db/database.js';
import { newId } from '../db/ids.js';
import { decodePageToken, pageOf } from '../db/paging.js';
import { alreadyExists, conflict, notFound } from '../errors.js';
import type { DomainEvent, EventBus } from '../events.js';
import { breaches, matchingMetrics } from './rules.js';
import type { AlertRow, AlertRuleRow, AlertsStore, AlertStatus } from './store.js';

/** The event a finished monitor run publishes; its flat metrics are what rules read. */
export const RUN_COMPLETED = 'monitor.run.completed';
export const ALERT_FIRED = 'monitor.alert.fired';
export const ALERT_RESOLVED = 'monitor.alert.resolved';

/** A monitor of the group by id or name, or a 404 (the monitors domain's `get`); absent until that domain is wired. */
export type MonitorLookup = (scope: GroupScope, idOrName: string) => Promise<{ id: string; name: string }>;

export interface MonitorRunCompleted {
  groupId: string;
  groupName: string;
  monitorId: string;
  monitorName: string;
  runId: string;
  metrics: Record<string, number>;
}

export interface AlertsServiceOptions {
  store: AlertsStore;
  audit: AuditLog;
  events: EventBus;
  monitors?: MonitorLookup;
  clock?: () => number;
}

type RuleUpdate = z.input<typeof AlertRuleUpdateSchema>;
type AlertAction = z.input<typeof AlertActionSchema>;

/**
 * Alert rules of monitors, evaluated on every finished run: a rule keeps a breach streak per
 * metric it matches, fires one alert per breach episode (after `consecutive` breaching runs), and
 * resolves that alert by itself when a later run is back within the rule. People acknowledge and
 * resolve alerts; every fire and resolve is an event the group's webhooks deliver, signed.
 */
export class AlertsService {
  private readonly store: AlertsStore;
  private readonly audit: AuditLog;
  private readonly events: EventBus;
  private readonly monitors: MonitorLookup | undefined;
  private readonly clock: () => number;

  constructor(options: AlertsServiceOptions) {
    this.store = options.store;
    this.audit = options.audit;
    this.events = options.events;
    this.monitors = options.monitors;
    this.clock = options.clock ?? Date.now;
  }

  async rules(scope: GroupScope, monitorId: string): Promise<AlertRule[]> {
    requireScopeRole(scope, 'viewer');
    return (await this.store.rules(scope.id, await this.monitorIdOf(scope, monitorId))).map(toRule);
  }

  async rule(scope: GroupScope, monitorId: string, id: string): Promise<AlertRule> {
    requireScopeRole(scope, 'viewer');
    return toRule(await this.requireRule(scope, monitorId, id));
  }

  async createRule(ctx: RequestContext, scope: GroupScope, monitorId: string, input: AlertRuleCreate): Promise<AlertRule> {
    requireScopeRole(scope, 'editor');
    monitorId = await this.monitorIdOf(scope, monitorId);
    const body = AlertRuleCreateSchema.parse(input);
    const now = this.clock();
    const row: AlertRuleRow = {
      id: newId(),
      group_id: scope.id,
      monitor_id: monitorId,
      name: body.name,
      metric: body.metric,
      operator: body.operator,
      threshold: body.threshold,
      consecutive: body.consecutive,
      severity: body.severity,
      enabled: body.enabled ? 1 : 0,
      created_by: ctx.principal.name,
      created_at: now,
      updated_at: now,
    };
    try {
      await this.store.insertRule(row);
    } catch (err) {
      if (isUniqueViolation(err)) throw alreadyExists(`Monitor ${monitorId} already has an alert rule named "${body.name}".`);
      throw err;
    }
    await this.audit.record(ctx, {
      action: 'alert_rule.create',
      resourceType: 'alert_rule',
      resourceId: row.id,
      groupId: scope.id,
      details: { monitorId, ...body },
    });
    return toRule(row);
  }

  async updateRule(ctx: RequestContext, scope: GroupScope, monitorId: string, id: string, input: RuleUpdate): Promise<AlertRule> {
    requireScopeRole(scope, 'editor');
    const row = await this.requireRule(scope, monitorId, id);
    const body = AlertRuleUpdateSchema.parse(input);
    const set: Partial<AlertRuleRow> = { updated_at: this.clock() };
    if (body.name !== undefined) set.name = body.name;
    if (body.metric !== undefined) set.metric = body.metric;
    if (body.operator !== undefined) set.operator = body.operator;
    if (body.threshold !== undefined) set.threshold = body.threshold;
    if (body.consecutive !== undefined) set.consecutive = body.consecutive;
    if (body.severity !== undefined) set.severity = body.severity;
    if (body.enabled !== undefined) set.enabled = body.enabled ? 1 : 0;
    try {
      await this.store.updateRule(id, set);
    } catch (err) {
      if (isUniqueViolation(err)) throw alreadyExists(`Monitor ${monitorId} already has an alert rule named "${body.name}".`);
      throw err;
    }
    // A new condition counts breaches afresh; alerts already fired stay until resolved.
    if (set.metric !== undefined || set.operator !== undefined || set.threshold !== undefined) await this.store.resetStreaks(id);
    await this.audit.record(ctx, {
      action: 'alert_rule.update',
      resourceType: 'alert_rule',
      resourceId: id,
      groupId: scope.id,
      details: { monitorId, ...body },
    });
    return toRule({ ...row, ...set });
  }

  async deleteRule(ctx: RequestContext, scope: GroupScope, monitorId: string, id: string): Promise<void> {
    requireScopeRole(scope, 'editor');
    const row = await this.requireRule(scope, monitorId, id);
    await this.store.deleteRule(id);
    await this.audit.record(ctx, {
      action: 'alert_rule.delete',
      resourceType: 'alert_rule',
      resourceId: id,
      groupId: scope.id,
      details: { monitorId, name: row.name },
    });
  }

  async list(
    scope: GroupScope,
    query: { limit: number; pageToken?: string; status?: z.infer<typeof AlertStatusSchema>; monitor?: string },
  ): Promise<{ items: Alert[]; nextPageToken?: string }> {
    requireScopeRole(scope, 'viewer');
    const offset = decodePageToken(query.pageToken);
    const rows = await this.store.alerts(scope.id, { status: query.status, monitor: query.monitor }, offset, query.limit + 1);
    const { page, nextPageToken } = pageOf(rows, offset, query.limit);
    return { items: page.map((r) => toAlert(r, scope.name)), nextPageToken };
  }

  async get(scope: GroupScope, id: string): Promise<Alert> {
    requireScopeRole(scope, 'viewer');
    return toAlert(await this.requireAlert(scope, id), scope.name);
  }

  /** Someone is on it: open → acknowledged. Any other state is a 409 saying which it is in. */
  async acknowledge(ctx: RequestContext, scope: GroupScope, id: string, input: AlertAction = {}): Promise<Alert> {
    requireScopeRole(scope, 'editor');
    const { note } = AlertActionSchema.parse(input);
    const set = {
      status: 'acknowledged' as const,
      acknowledged_by: ctx.principal.name,
      acknowledged_at: this.clock(),
      ...(note !== undefined ? { note } : {}),
    };
    const row = await this.move(scope, id, ['open'], set, 'acknowledge');
    await this.audit.record(ctx, { action: 'alert.acknowledge', resourceType: 'alert', resourceId: id, groupId: scope.id, details: { note: note ?? null } });
    return toAlert(row, scope.name);
  }

  /** Closed by a person: open or acknowledged → resolved. Resolving a resolved alert is a 409 naming who resolved it. */
  async resolve(ctx: RequestContext, scope: GroupScope, id: string, input: AlertAction = {}): Promise<Alert> {
    requireScopeRole(scope, 'editor');
    const { note } = AlertActionSchema.parse(input);
    const set = {
      status: 'resolved' as const,
      resolved_by: ctx.principal.name,
      resolved_at: this.clock(),
      resolution: `resolved by ${ctx.principal.name}`,
      ...(note !== undefined ? { note } : {}),
    };
    const row = await this.move(scope, id, ['open', 'acknowledged'], set, 'resolve');
    await this.audit.record(ctx, { action: 'alert.resolve', resourceType: 'alert', resourceId: id, groupId: scope.id, details: { note: note ?? null } });
    const alert = toAlert(row, scope.name);
    await this.publish(ALERT_RESOLVED, scope.id, scope.name, ctx.principal.name, alert);
    return alert;
  }

  /** The event bus listener: a finished monitor run is checked against its monitor's rules. */
  async onEvent(event: DomainEvent): Promise<void> {
    if (event.type !== RUN_COMPLETED) return;
    const d = event.data;
    const metrics = typeof d.metrics === 'object' && d.metrics !== null ? (d.metrics as Record<string, unknown>) : {};
    await this.evaluate({
      groupId: event.groupId,
      groupName: event.groupName,
      monitorId: String(d.monitorId),
      monitorName: String(d.monitorName ?? d.monitorId),
      runId: String(d.runId),
      metrics: Object.fromEntries(Object.entries(metrics).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1]))),
    });
  }

  /**
   * Checks one run against every enabled rule of its monitor and returns what it fired and
   * resolved. A run already counted for a rule and metric (the same event twice) changes nothing.
   */
  async evaluate(run: MonitorRunCompleted): Promise<{ fired: Alert[]; resolved: Alert[] }> {
    const fired: Alert[] = [];
    const resolved: Alert[] = [];
    for (const rule of await this.store.rules(run.groupId, run.monitorId, true)) {
      for (const [metric, value] of matchingMetrics(rule.metric, run.metrics)) {
        const outcome = await this.step(rule, run, metric, value);
        if (outcome?.kind === 'fired') fired.push(toAlert(outcome.row, run.groupName));
        if (outcome?.kind === 'resolved') resolved.push(toAlert(outcome.row, run.groupName));
      }
    }
    for (const a of fired) await this.publish(ALERT_FIRED, run.groupId, run.groupName, 'system', a);
    for (const a of resolved) await this.publish(ALERT_RESOLVED, run.groupId, run.groupName, 'system', a);
    return { fired, resolved };
  }

  /** One rule and metric for one run, in one transaction: the streak, and the alert it opens or closes. */
  private step(
    rule: AlertRuleRow,
    run: MonitorRunCompleted,
    metric: string,
    value: number,
  ): Promise<{ kind: 'fired' | 'resolved'; row: AlertRow } | undefined> {
    const now = this.clock();
    return this.store.db.transaction(async (trx) => {
      const streak = await this.store.streak(trx, rule.id, metric);
      if (streak?.last_run_id === run.runId) return undefined;
      const breach = breaches(value, rule.operator, rule.threshold);
      const count = breach ? (streak?.breaches ?? 0) + 1 : 0;
      let episode = breach ? (streak?.episode_alert_id ?? null) : null;
      let outcome: { kind: 'fired' | 'resolved'; row: AlertRow } | undefined;
      if (breach && count >= rule.consecutive && episode === null) {
        const row: AlertRow = {
          id: newId(),
          group_id: run.groupId,
          monitor_id: run.monitorId,
          monitor_name: run.monitorName,
          rule_id: rule.id,
          rule_name: rule.name,
          severity: rule.severity,
          metric,
          value,
          operator: rule.operator,
          threshold: rule.threshold,
          run_id: run.runId,
          status: 'open',
          fired_at: now,
          acknowledged_by: null,
          acknowledged_at: null,
          resolved_by: null,
          resolved_at: null,
          resolution: null,
          note: null,
        };
        await this.store.insertAlert(trx, row);
        episode = row.id;
        outcome = { kind: 'fired', row };
      }
      if (!breach && streak?.episode_alert_id) {
        const set = {
          status: 'resolved' as const,
          resolved_by: 'system',
          resolved_at: now,
          resolution: `metric back within the rule: ${metric} = ${value} at run ${run.runId}`,
        };
        // Already resolved by a person: the episode just ends.
        if (await this.store.transition(streak.episode_alert_id, ['open', 'acknowledged'], set, trx)) {
          const row = await this.store.alert(run.groupId, streak.episode_alert_id, trx);
          if (row) outcome = { kind: 'resolved', row };
        }
      }
      await this.store.saveStreak(trx, { rule_id: rule.id, metric, breaches: count, episode_alert_id: episode, last_run_id: run.runId, updated_at: now });
      return outcome;
    });
  }

  private async move(scope: GroupScope, id: string, from: AlertStatus[], set: Partial<AlertRow>, verb: string): Promise<AlertRow> {
    const row = await this.requireAlert(scope, id);
    if (!(await this.store.transition(id, from, set))) {
      const now = (await this.store.alert(scope.id, id)) ?? row;
      const by = now.status === 'resolved' ? ` by ${now.resolved_by} (${now.resolution})` : now.status === 'acknowledged' ? ` by ${now.acknowledged_by}` : '';
      throw conflict(`Alert ${id} is ${now.status}${by}: only ${from.join(' or ')} alerts can be ${verb}d.`);
    }
    return { ...row, ...set };
  }

  private publish(type: string, groupId: string, groupName: string, actor: string, alert: Alert): Promise<void> {
    return this.events.publish({ type, groupId, groupName, actor, at: this.clock(), data: { alert } });
  }

  /** Rules are kept under the monitor's id; the path may name the monitor. Unchecked until the monitors domain is wired. */
  private async monitorIdOf(scope: GroupScope, idOrName: string): Promise<string> {
    return this.monitors ? (await this.monitors(scope, idOrName)).id : idOrName;
  }

  private async requireRule(scope: GroupScope, monitorId: string, id: string): Promise<AlertRuleRow> {
    const row = await this.store.rule(scope.id, await this.monitorIdOf(scope, monitorId), id);
    if (!row) throw notFound('Alert rule', id);
    return row;
  }

  private async requireAlert(scope: GroupScope, id: string): Promise<AlertRow> {
    const row = await this.store.alert(scope.id, id);
    if (!row) throw notFound('Alert', id);
    return row;
  }
}

function toRule(r: AlertRuleRow): AlertRule {
  return {
    id: r.id,
    monitorId: r.monitor_id,
    name: r.name,
    metric: r.metric,
    operator: r.operator,
    threshold: r.threshold,
    consecutive: r.consecutive,
    severity: r.severity,
    enabled: r.enabled === 1,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function toAlert(r: AlertRow, group: string): Alert {
  return {
    id: r.id,
    group,
    monitorId: r.monitor_id,
    monitorName: r.monitor_name,
    ruleId: r.rule_id,
    ruleName: r.rule_name,
    severity: r.severity,
    metric: r.metric,
    value: r.value,
    operator: r.operator,
    threshold: r.threshold,
    runId: r.run_id,
    status: r.status,
    firedAt: r.fired_at,
    acknowledgedBy: r.acknowledged_by,
    acknowledgedAt: r.acknowledged_at,
    resolvedBy: r.resolved_by,
    resolvedAt: r.resolved_at,
    resolution: r.resolution,
    note: r.note,
  };
}
