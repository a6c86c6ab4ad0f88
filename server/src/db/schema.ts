/**
 * Table types for Kysely. Conventions that hold on both SQLite and PostgreSQL:
 * ids are text, times are bigint milliseconds (read back as numbers), booleans are 0/1 integers,
 * and JSON is stored as text.
 */
export interface UsersTable {
  id: string;
  username: string;
  display_name: string;
  email: string | null;
  password_hash: string | null;
  is_admin: number;
  disabled: number;
  default_group_id: string | null;
  created_at: number;
  updated_at: number;
}

export interface GroupsTable {
  id: string;
  name: string;
  description: string;
  created_at: number;
  created_by: string | null;
}

export interface MembershipsTable {
  group_id: string;
  user_id: string;
  role: 'viewer' | 'editor' | 'admin';
  created_at: number;
}

export interface TokensTable {
  id: string;
  kind: 'session' | 'personal' | 'service' | 'group';
  name: string;
  prefix: string;
  hash: string;
  user_id: string | null;
  group_id: string | null;
  role: 'viewer' | 'editor' | 'admin' | null;
  created_at: number;
  created_by: string | null;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface AuditLogTable {
  id: string;
  at: number;
  actor_id: string | null;
  actor_name: string | null;
  action: string;
  resource_type: string;
  resource_id: string | null;
  group_id: string | null;
  ip: string | null;
  request_id: string | null;
  details: string | null;
}

export interface Database {
  users: UsersTable;
  groups: GroupsTable;
  memberships: MembershipsTable;
  tokens: TokensTable;
  audit_log: AuditLogTable;
}
