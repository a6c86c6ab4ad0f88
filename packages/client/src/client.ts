import type { z } from 'zod';
import {
  AuditListSchema,
  GroupListSchema,
  GroupSchema,
  LoginResponseSchema,
  MemberListSchema,
  MemberSchema,
  OkSchema,
  TokenCreatedSchema,
  TokenListSchema,
  TokenSchema,
  UserListSchema,
  UserSchema,
  VersionSchema,
  WhoamiSchema,
  type GroupCreate,
  type Role,
  type TokenCreate,
  type UserCreate,
  type UserUpdate,
} from '@forja/contracts';
import { ForjaApiError, ForjaConnectionError } from './errors.js';

export interface ClientOptions {
  /** Server URL, e.g. http://127.0.0.1:5050. */
  baseUrl: string;
  token?: string;
  /** Group to act in when a call names none (sent as X-Forja-Group). */
  group?: string;
  /** Retries on connection errors and 502/503/504, never on a 4xx. */
  retries?: number;
  fetch?: typeof fetch;
}

type Query = Record<string, string | number | boolean | undefined>;

/**
 * The TypeScript SDK. Every response is parsed with the same zod schema the server validates with.
 *
 * @example
 * const forja = new ForjaClient({ baseUrl: 'http://127.0.0.1:5050' });
 * await forja.login('admin', 'secret-password');
 * console.log((await forja.whoami()).user?.username);
 */
export class ForjaClient {
  readonly baseUrl: string;
  token: string | undefined;
  group: string | undefined;
  private readonly retries: number;
  private readonly fetchImpl: typeof fetch;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.token = options.token;
    this.group = options.group;
    this.retries = options.retries ?? 2;
    // Browsers reject a detached `fetch` ("Illegal invocation"), so call it through a wrapper.
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** Sends a request and parses the answer with `schema`; throws ForjaApiError on an error status. */
  async request<S extends z.ZodTypeAny>(method: string, path: string, schema: S, options: { body?: unknown; query?: Query } = {}): Promise<z.infer<S>> {
    const url = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (this.group) headers['x-forja-group'] = this.group;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const init: RequestInit = { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) };
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await this.fetchImpl(url, init);
      } catch (err) {
        if (attempt < this.retries) {
          await sleep(backoff(attempt));
          continue;
        }
        throw new ForjaConnectionError(this.baseUrl, (err as Error).cause ?? err);
      }
      if ([502, 503, 504].includes(response.status) && attempt < this.retries) {
        await sleep(backoff(attempt));
        continue;
      }
      const text = await response.text();
      const data: unknown = text ? safeJson(text) : undefined;
      if (!response.ok) {
        const err = (data as { error?: { code?: string; message?: string; details?: unknown; requestId?: string } } | undefined)?.error;
        throw ForjaApiError.from(
          response.status,
          err?.code ?? `HTTP_${response.status}`,
          err?.message ?? (text.slice(0, 200) || response.statusText),
          err?.details,
          err?.requestId ?? response.headers.get('x-request-id') ?? undefined,
        );
      }
      return schema.parse(data);
    }
  }

  /** Logs in and keeps the session token for later calls. */
  async login(username: string, password: string) {
    const result = await this.request('POST', '/api/v1/auth/login', LoginResponseSchema, { body: { username, password } });
    this.token = result.token;
    return result;
  }
  logout() {
    return this.request('POST', '/api/v1/auth/logout', OkSchema);
  }
  version() {
    return this.request('GET', '/api/v1/version', VersionSchema);
  }
  whoami() {
    return this.request('GET', '/api/v1/whoami', WhoamiSchema);
  }

  readonly users = {
    list: (query: { limit?: number; pageToken?: string } = {}) => this.request('GET', '/api/v1/users', UserListSchema, { query }),
    create: (user: UserCreate) => this.request('POST', '/api/v1/users', UserSchema, { body: user }),
    get: (username: string) => this.request('GET', `/api/v1/users/${enc(username)}`, UserSchema),
    update: (username: string, patch: UserUpdate) => this.request('PATCH', `/api/v1/users/${enc(username)}`, UserSchema, { body: patch }),
  };

  readonly groups = {
    list: async () => (await this.request('GET', '/api/v1/groups', GroupListSchema)).items,
    create: (group: GroupCreate) => this.request('POST', '/api/v1/groups', GroupSchema, { body: group }),
    get: (name: string) => this.request('GET', `/api/v1/groups/${enc(name)}`, GroupSchema),
    update: (name: string, description: string) => this.request('PATCH', `/api/v1/groups/${enc(name)}`, GroupSchema, { body: { description } }),
    delete: (name: string) => this.request('DELETE', `/api/v1/groups/${enc(name)}`, OkSchema),
    members: async (name: string) => (await this.request('GET', `/api/v1/groups/${enc(name)}/members`, MemberListSchema)).items,
    setMember: (name: string, username: string, role: Role) =>
      this.request('PUT', `/api/v1/groups/${enc(name)}/members/${enc(username)}`, MemberSchema, { body: { role } }),
    removeMember: (name: string, username: string) => this.request('DELETE', `/api/v1/groups/${enc(name)}/members/${enc(username)}`, OkSchema),
  };

  readonly tokens = {
    list: async (query: { group?: string; includeRevoked?: boolean } = {}) => (await this.request('GET', '/api/v1/tokens', TokenListSchema, { query })).items,
    create: (token: TokenCreate) => this.request('POST', '/api/v1/tokens', TokenCreatedSchema, { body: token }),
    revoke: (id: string) => this.request('DELETE', `/api/v1/tokens/${enc(id)}`, TokenSchema),
  };

  audit(query: { group?: string; actor?: string; action?: string; limit?: number; pageToken?: string } = {}) {
    return this.request('GET', '/api/v1/audit', AuditListSchema, { query });
  }
}

const enc = encodeURIComponent;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const backoff = (attempt: number) => Math.min(2000, 200 * 2 ** attempt) * (0.5 + Math.random() / 2);

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
