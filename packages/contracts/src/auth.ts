import { z } from 'zod';
import { IdSchema, SlugSchema, TimestampSchema, pageOf } from './common.js';

export const RoleSchema = z.enum(['viewer', 'editor', 'admin']);
export type Role = z.infer<typeof RoleSchema>;
/** Higher rank includes every right of a lower one. */
export const roleRank: Record<Role, number> = { viewer: 1, editor: 2, admin: 3 };

export const PasswordSchema = z.string().min(8, 'must be at least 8 characters').max(256);

export const UserSchema = z.object({
  id: IdSchema,
  username: SlugSchema,
  displayName: z.string(),
  email: z.string().nullable(),
  isAdmin: z.boolean(),
  disabled: z.boolean(),
  defaultGroup: z.string().nullable(),
  createdAt: TimestampSchema,
});
export type User = z.infer<typeof UserSchema>;

export const UserCreateSchema = z
  .object({
    username: SlugSchema,
    password: PasswordSchema,
    displayName: z.string().max(200).optional(),
    email: z.string().email().max(320).optional(),
    isAdmin: z.boolean().default(false),
  })
  .strict();
export type UserCreate = z.input<typeof UserCreateSchema>;

export const UserUpdateSchema = z
  .object({
    displayName: z.string().max(200).optional(),
    email: z.string().email().max(320).nullable().optional(),
    isAdmin: z.boolean().optional(),
    disabled: z.boolean().optional(),
    password: PasswordSchema.optional(),
    defaultGroup: SlugSchema.optional(),
  })
  .strict();
export type UserUpdate = z.infer<typeof UserUpdateSchema>;

export const UserListSchema = pageOf(UserSchema);

export const MembershipSchema = z.object({ group: SlugSchema, role: RoleSchema });

export const WhoamiSchema = z.object({
  kind: z.enum(['user', 'service', 'group']),
  user: UserSchema.nullable(),
  tokenId: IdSchema.nullable(),
  tokenName: z.string().nullable(),
  /** Group a request acts in when it names none. */
  defaultGroup: z.string().nullable(),
  /** The group this request acts in: the X-Forja-Group header's, else the default (null when neither is usable). */
  actingGroup: z.string().nullable(),
  memberships: z.array(MembershipSchema),
});
export type Whoami = z.infer<typeof WhoamiSchema>;

export const LoginRequestSchema = z.object({ username: z.string().min(1).max(63), password: z.string().min(1).max(256) }).strict();
export type LoginRequest = z.infer<typeof LoginRequestSchema>;

export const LoginResponseSchema = z.object({
  token: z.string(),
  expiresAt: TimestampSchema,
  user: UserSchema,
});
export type LoginResponse = z.infer<typeof LoginResponseSchema>;

export const GroupSchema = z.object({
  id: IdSchema,
  name: SlugSchema,
  description: z.string(),
  createdAt: TimestampSchema,
  /** The caller's role in the group; null when a system admin sees a group they are not in. */
  myRole: RoleSchema.nullable(),
});
export type Group = z.infer<typeof GroupSchema>;

export const GroupCreateSchema = z.object({ name: SlugSchema, description: z.string().max(2000).default('') }).strict();
export type GroupCreate = z.input<typeof GroupCreateSchema>;

export const GroupUpdateSchema = z.object({ description: z.string().max(2000) }).strict();

export const GroupListSchema = z.object({ items: z.array(GroupSchema) });

export const MemberSchema = z.object({
  username: SlugSchema,
  displayName: z.string(),
  role: RoleSchema,
  addedAt: TimestampSchema,
});
export type Member = z.infer<typeof MemberSchema>;
export const MemberListSchema = z.object({ items: z.array(MemberSchema) });
export const MemberPutSchema = z.object({ role: RoleSchema }).strict();

export const TokenKindSchema = z.enum(['session', 'personal', 'service', 'group']);
export type TokenKind = z.infer<typeof TokenKindSchema>;

export const TokenSchema = z.object({
  id: IdSchema,
  kind: TokenKindSchema,
  name: z.string(),
  /** The first characters of the secret, enough to recognise it, never enough to use it. */
  prefix: z.string(),
  owner: z.string().nullable(),
  group: z.string().nullable(),
  role: RoleSchema.nullable(),
  createdAt: TimestampSchema,
  expiresAt: TimestampSchema.nullable(),
  lastUsedAt: TimestampSchema.nullable(),
  revokedAt: TimestampSchema.nullable(),
});
export type Token = z.infer<typeof TokenSchema>;

export const TokenCreateSchema = z
  .object({
    name: z.string().min(1).max(100),
    kind: z.enum(['personal', 'service', 'group']).default('personal'),
    /** Required for service and group tokens: the group they act in. */
    group: SlugSchema.optional(),
    /** Role of a service token in its group (group tokens can only call models). */
    role: RoleSchema.optional(),
    expiresInDays: z.number().int().min(1).max(3650).optional(),
  })
  .strict();
export type TokenCreate = z.input<typeof TokenCreateSchema>;

export const TokenCreatedSchema = z.object({
  token: TokenSchema,
  /** The secret. Shown in this response only; the server keeps a hash. */
  secret: z.string(),
});
export type TokenCreated = z.infer<typeof TokenCreatedSchema>;

export const TokenListQuerySchema = z
  .object({
    group: SlugSchema.optional(),
    includeRevoked: z.enum(['true', 'false']).default('false'),
  })
  .strict();
export const TokenListSchema = z.object({ items: z.array(TokenSchema) });

export const AuditEntrySchema = z.object({
  id: IdSchema,
  at: TimestampSchema,
  actor: z.string().nullable(),
  /** The token the actor used (a login session counts); null for a password sent with HTTP Basic, or the system. */
  actorTokenId: z.string().nullable(),
  /** That token's name; "session" for a login session. */
  actorTokenName: z.string().nullable(),
  action: z.string(),
  resourceType: z.string(),
  resourceId: z.string().nullable(),
  group: z.string().nullable(),
  ip: z.string().nullable(),
  requestId: z.string().nullable(),
  details: z.record(z.string(), z.unknown()).nullable(),
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;

export const AuditQuerySchema = z
  .object({
    group: SlugSchema.optional(),
    actor: z.string().max(63).optional(),
    /** Only entries made with this token (its id). */
    token: IdSchema.optional(),
    action: z.string().max(100).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    pageToken: z.string().max(200).optional(),
  })
  .strict();
export const AuditListSchema = pageOf(AuditEntrySchema);
