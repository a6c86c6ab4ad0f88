import type { Migration } from 'kysely';
import * as m0001 from './0001_auth.js';
import * as m0002 from './0002_tracking.js';
import * as m0003 from './0003_logged_models.js';
import * as m0004 from './0004_registry.js';
import * as m0005 from './0005_approvals.js';
import * as m0006 from './0006_jobs.js';
import * as m0007 from './0007_webhooks.js';
import * as m0008 from './0008_deployments.js';
import * as m0009 from './0009_executions.js';
import * as m0010 from './0010_batch.js';
import * as m0011 from './0011_schedules.js';
import * as m0012 from './0012_training.js';
import * as m0013 from './0013_pipelines.js';
import * as m0014 from './0014_audit_token.js';
import * as m0015 from './0015_sandbox_users.js';
import * as m0016 from './0016_model_links.js';
import * as m0017 from './0017_deployment_usage.js';
import * as m0018 from './0018_monitors.js';
import * as m0019 from './0019_alerts.js';
import * as m0020 from './0020_scorer_paths.js';
import * as m0021 from './0021_training_numbers.js';

/**
 * Every migration, in order. Names never change once released; a new change is a new entry.
 * Migrations are written once with Kysely's schema builder and run on SQLite and PostgreSQL alike.
 */
export const migrations: Record<string, Migration> = {
  '0001_auth': m0001,
  '0002_tracking': m0002,
  '0003_logged_models': m0003,
  '0004_registry': m0004,
  '0005_approvals': m0005,
  '0006_jobs': m0006,
  '0007_webhooks': m0007,
  '0008_deployments': m0008,
  '0009_executions': m0009,
  '0010_batch': m0010,
  '0011_schedules': m0011,
  '0012_training': m0012,
  '0013_pipelines': m0013,
  '0014_audit_token': m0014,
  '0015_sandbox_users': m0015,
  '0016_model_links': m0016,
  '0017_deployment_usage': m0017,
  '0018_monitors': m0018,
  '0019_alerts': m0019,
  '0020_scorer_paths': m0020,
  '0021_training_numbers': m0021,
};
