import type { Group, Role, Token, User } from '@forja/contracts';
import type { GroupRow, TokenWithNames, UserRow } from './store.js';

export function toUser(row: UserRow, defaultGroupName: string | null): User {
  return {
    id: row.id,
    username: row.username,
    displayName: row.display_name,
    email: row.email,
    isAdmin: row.is_admin === 1,
    disabled: row.disabled === 1,
    defaultGroup: defaultGroupName,
    createdAt: row.created_at,
  };
}

export function toGroup(row: GroupRow, myRole: Role | null): Group {
  return { id: row.id, name: row.name, description: row.description, createdAt: row.created_at, myRole };
}

export function toToken(row: TokenWithNames): Token {
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    prefix: row.prefix,
    owner: row.owner_name,
    group: row.group_name,
    role: row.role,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}
