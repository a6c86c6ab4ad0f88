import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Db } from '../db/database.js';
import type { BatchDeploysTable, Database } from '../db/schema.js';
import { namesById } from '../db/names.js';

export type ClusterProfileRow = Selectable<Database['cluster_profiles']>;
export type ProjectRow = Selectable<Database['batch_projects']>;
export type DeployRow = Selectable<BatchDeploysTable>;
export type RunRow = Selectable<Database['batch_runs']>;
export type ScheduleRow = Selectable<Database['schedules']>;

/** SQL for batch: cluster profiles, projects, their deploys and runs, and the schedules that start runs. */
export class BatchStore {
  constructor(private readonly db: Db) {}

  private get k(): Kysely<Database> {
    return this.db.kysely;
  }

  /** Deploys and runs are written in the transaction that queues their job. */
  transaction<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.db.transaction(fn);
  }

  // ---- cluster profiles

  /** Projects' names by id (one query), for lists of jobs. */
  projectNamesOf(ids: string[]): Promise<Map<string, string>> {
    return namesById(this.k, 'batch_projects', ids);
  }

  clusters(): Promise<ClusterProfileRow[]> {
    return this.k.selectFrom('cluster_profiles').selectAll().orderBy('size').execute();
  }
  /** False when there is no profile of that size. */
  async updateCluster(size: number, set: Partial<Omit<ClusterProfileRow, 'size'>>): Promise<boolean> {
    const res = await this.k.updateTable('cluster_profiles').set(set).where('size', '=', size).executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  // ---- projects

  async insertProject(row: ProjectRow): Promise<void> {
    await this.k.insertInto('batch_projects').values(row).execute();
  }
  projects(groupId: string): Promise<ProjectRow[]> {
    return this.k.selectFrom('batch_projects').selectAll().where('group_id', '=', groupId).orderBy('name').execute();
  }
  project(groupId: string, name: string): Promise<ProjectRow | undefined> {
    return this.k.selectFrom('batch_projects').selectAll().where('group_id', '=', groupId).where('name', '=', name).executeTakeFirst();
  }
  projectById(id: string): Promise<ProjectRow | undefined> {
    return this.k.selectFrom('batch_projects').selectAll().where('id', '=', id).executeTakeFirst();
  }
  async updateProject(id: string, set: Partial<Omit<ProjectRow, 'id' | 'group_id'>>): Promise<void> {
    await this.k.updateTable('batch_projects').set(set).where('id', '=', id).execute();
  }
  /** Its deploys, runs and schedules go with it (foreign keys cascade). */
  async deleteProject(id: string): Promise<void> {
    await this.k.deleteFrom('batch_projects').where('id', '=', id).execute();
  }

  // ---- deploys

  /**
   * The version after the project's latest. Two transactions can read the same one: the second
   * insert then fails on the (project, version) key and the caller tries again.
   */
  async nextDeployVersion(trx: Transaction<Database>, projectId: string): Promise<number> {
    const last = await trx
      .selectFrom('batch_deploys')
      .select((eb) => eb.fn.max('version').as('v'))
      .where('project_id', '=', projectId)
      .executeTakeFirst();
    return Number(last?.v ?? 0) + 1;
  }
  async insertDeploy(trx: Transaction<Database>, row: DeployRow): Promise<void> {
    await trx.insertInto('batch_deploys').values(row).execute();
  }
  /** Newest first. */
  deploys(projectId: string): Promise<DeployRow[]> {
    return this.k.selectFrom('batch_deploys').selectAll().where('project_id', '=', projectId).orderBy('version', 'desc').execute();
  }
  deploy(projectId: string, version: number): Promise<DeployRow | undefined> {
    return this.k.selectFrom('batch_deploys').selectAll().where('project_id', '=', projectId).where('version', '=', version).executeTakeFirst();
  }
  /** The newest Ready deploy: the one new runs use. */
  currentDeploy(projectId: string): Promise<DeployRow | undefined> {
    return this.k
      .selectFrom('batch_deploys')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('status', '=', 'Ready')
      .orderBy('version', 'desc')
      .limit(1)
      .executeTakeFirst();
  }
  async updateDeploy(projectId: string, version: number, set: Partial<Pick<DeployRow, 'status' | 'message' | 'env_key'>>): Promise<void> {
    await this.k.updateTable('batch_deploys').set(set).where('project_id', '=', projectId).where('version', '=', version).execute();
  }

  // ---- runs

  async insertRun(trx: Transaction<Database>, row: RunRow): Promise<void> {
    await trx.insertInto('batch_runs').values(row).execute();
  }
  /** Newest first. */
  runs(projectId: string, limit: number): Promise<RunRow[]> {
    return this.k.selectFrom('batch_runs').selectAll().where('project_id', '=', projectId).orderBy('id', 'desc').limit(limit).execute();
  }
  run(projectId: string, id: string): Promise<RunRow | undefined> {
    return this.k.selectFrom('batch_runs').selectAll().where('id', '=', id).where('project_id', '=', projectId).executeTakeFirst();
  }
  /** The job of every run of the project; their states are the job engine's to tell. */
  async runJobIds(projectId: string): Promise<string[]> {
    return (await this.k.selectFrom('batch_runs').select('job_id').where('project_id', '=', projectId).execute()).map((r) => r.job_id);
  }

  // ---- schedules

  async insertSchedule(row: ScheduleRow): Promise<void> {
    await this.k.insertInto('schedules').values(row).execute();
  }
  /** The group's schedules (of one project when named), in creation order, each with its project's name. */
  schedules(groupId: string, projectName?: string): Promise<Array<ScheduleRow & { project: string }>> {
    let q = this.k
      .selectFrom('schedules')
      .innerJoin('batch_projects', 'batch_projects.id', 'schedules.project_id')
      .selectAll('schedules')
      .select('batch_projects.name as project')
      .where('schedules.group_id', '=', groupId);
    if (projectName) q = q.where('batch_projects.name', '=', projectName);
    return q.orderBy('schedules.id').execute();
  }
  schedule(groupId: string, id: string): Promise<ScheduleRow | undefined> {
    return this.k.selectFrom('schedules').selectAll().where('id', '=', id).where('group_id', '=', groupId).executeTakeFirst();
  }
  async updateSchedule(id: string, set: Partial<Omit<ScheduleRow, 'id' | 'group_id' | 'project_id'>>): Promise<void> {
    await this.k.updateTable('schedules').set(set).where('id', '=', id).execute();
  }
  async deleteSchedule(id: string): Promise<void> {
    await this.k.deleteFrom('schedules').where('id', '=', id).execute();
  }
  /** Unpaused schedules whose next tick is at or before `now`. */
  dueSchedules(now: number, limit: number): Promise<ScheduleRow[]> {
    return this.k.selectFrom('schedules').selectAll().where('paused', '=', 0).where('next_fire_at', '<=', now).limit(limit).execute();
  }
  /**
   * Moves a schedule past the tick it was read at. Guarded by that tick, so when several processes
   * fire the same tick only one moves it on; false for the others (or when it was changed meanwhile).
   */
  async advanceSchedule(id: string, tick: number, set: Pick<ScheduleRow, 'next_fire_at'> & Partial<Pick<ScheduleRow, 'last_fire_at'>>): Promise<boolean> {
    const res = await this.k.updateTable('schedules').set(set).where('id', '=', id).where('next_fire_at', '=', tick).executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }
}
