import { z } from 'zod';
import {
  AlertActionSchema,
  AlertPageSchema,
  AlertQuerySchema,
  AlertRuleCreateSchema,
  AlertRuleListSchema,
  AlertRuleSchema,
  AlertRuleUpdateSchema,
  AlertSchema,
  OkSchema,
} from '@forja/contracts';
import { contextOf, groupOf } from '../http/auth-hooks.js';
import type { App } from '../http/types.js';
import type { AlertsService } from './service.js';

const MonitorParams = z.object({ id: z.string().min(1).max(100) }).strict();
const RuleParams = MonitorParams.extend({ ruleId: z.string().min(1).max(40) }).strict();
const AlertParams = z.object({ id: z.string().min(1).max(40) }).strict();
const role = (r: 'viewer' | 'editor') => ({ auth: { group: r } }) as const;

export function registerAlertRoutes(app: App, s: { alerts: AlertsService }): void {
  const tags = ['alerts'];
  const a = s.alerts;
  app.get(
    '/api/v1/monitors/:id/alert-rules',
    { config: role('viewer'), schema: { tags, summary: "A monitor's alert rules", params: MonitorParams, response: { 200: AlertRuleListSchema } } },
    async (req) => ({ items: await a.rules(groupOf(req), req.params.id) }),
  );
  app.post(
    '/api/v1/monitors/:id/alert-rules',
    {
      config: role('editor'),
      schema: {
        tags,
        summary: 'Alert when a run metric (a name, or a pattern with * for one part) crosses a threshold for N runs in a row',
        params: MonitorParams,
        body: AlertRuleCreateSchema,
        response: { 201: AlertRuleSchema },
      },
    },
    async (req, reply) => reply.code(201).send(await a.createRule(contextOf(req), groupOf(req), req.params.id, req.body)),
  );
  app.get(
    '/api/v1/monitors/:id/alert-rules/:ruleId',
    { config: role('viewer'), schema: { tags, summary: 'An alert rule', params: RuleParams, response: { 200: AlertRuleSchema } } },
    async (req) => a.rule(groupOf(req), req.params.id, req.params.ruleId),
  );
  app.patch(
    '/api/v1/monitors/:id/alert-rules/:ruleId',
    {
      config: role('editor'),
      schema: {
        tags,
        summary: 'Change an alert rule (a new condition starts its breach counts over)',
        params: RuleParams,
        body: AlertRuleUpdateSchema,
        response: { 200: AlertRuleSchema },
      },
    },
    async (req) => a.updateRule(contextOf(req), groupOf(req), req.params.id, req.params.ruleId, req.body),
  );
  app.delete(
    '/api/v1/monitors/:id/alert-rules/:ruleId',
    {
      config: role('editor'),
      schema: { tags, summary: 'Delete an alert rule (its alerts stay in the history)', params: RuleParams, response: { 200: OkSchema } },
    },
    async (req) => {
      await a.deleteRule(contextOf(req), groupOf(req), req.params.id, req.params.ruleId);
      return { ok: true as const };
    },
  );
  app.get(
    '/api/v1/alerts',
    {
      config: role('viewer'),
      schema: {
        tags,
        summary: "The group's alerts, newest first (by status, by monitor id or name)",
        querystring: AlertQuerySchema,
        response: { 200: AlertPageSchema },
      },
    },
    async (req) => a.list(groupOf(req), req.query),
  );
  app.get(
    '/api/v1/alerts/:id',
    { config: role('viewer'), schema: { tags, summary: 'An alert', params: AlertParams, response: { 200: AlertSchema } } },
    async (req) => a.get(groupOf(req), req.params.id),
  );
  app.post(
    '/api/v1/alerts/:id/acknowledge',
    {
      config: role('editor'),
      schema: {
        tags,
        summary: 'Acknowledge an open alert (409 when it is not open)',
        params: AlertParams,
        body: AlertActionSchema.nullish(),
        response: { 200: AlertSchema },
      },
    },
    async (req) => a.acknowledge(contextOf(req), groupOf(req), req.params.id, req.body ?? {}),
  );
  app.post(
    '/api/v1/alerts/:id/resolve',
    {
      config: role('editor'),
      schema: {
        tags,
        summary: 'Resolve an open or acknowledged alert (409 when already resolved)',
        params: AlertParams,
        body: AlertActionSchema.nullish(),
        response: { 200: AlertSchema },
      },
    },
    async (req) => a.resolve(contextOf(req), groupOf(req), req.params.id, req.body ?? {}),
  );
}
