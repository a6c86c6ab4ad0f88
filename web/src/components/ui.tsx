import { useEffect, useId, useRef, type ButtonHTMLAttributes, type ReactNode } from 'react';
import { Link, useSearchParams } from 'react-router';
import type { KeyValue, Role } from '@forja/contracts';
import { errorMessage } from '../session';
import { ChevronLeftIcon, CloseIcon, PlusIcon, WarningIcon } from './icons';

export type ButtonVariant = 'primary' | 'secondary' | 'ghost' | 'danger';

export function Button({
  variant = 'secondary',
  size,
  pending,
  className,
  children,
  disabled,
  ...rest
}: ButtonHTMLAttributes<HTMLButtonElement> & { variant?: ButtonVariant; size?: 'sm'; pending?: boolean }) {
  const classes = ['btn', `btn-${variant}`, size === 'sm' ? 'btn-sm' : '', className ?? ''].filter(Boolean).join(' ');
  return (
    <button type="button" className={classes} disabled={disabled || pending} aria-busy={pending || undefined} {...rest}>
      {pending && <span className="spinner spinner-inline" aria-hidden="true" />}
      {children}
    </button>
  );
}

/** The primary button with a plus that starts making a new thing, above the list of such things. */
export function CreateButton({ onClick, testId, children }: { onClick: () => void; testId: string; children: ReactNode }) {
  return (
    <Button variant="primary" onClick={onClick} data-testid={testId}>
      <PlusIcon size={14} /> {children}
    </Button>
  );
}

/** `muted` is an outline for things kept only for the record (archived, cancelled). */
export type Tone = 'neutral' | 'accent' | 'green' | 'red' | 'amber' | 'blue' | 'muted';

export function Badge({ tone = 'neutral', children, title }: { tone?: Tone; children: ReactNode; title?: string }) {
  return (
    <span className={`badge badge-${tone}`} title={title}>
      {children}
    </span>
  );
}

const roleTone: Record<Role, Tone> = { admin: 'accent', editor: 'blue', viewer: 'neutral' };
export function RoleBadge({ role }: { role: Role | null | undefined }) {
  if (!role) return <span className="muted">—</span>;
  return <Badge tone={roleTone[role]}>{role}</Badge>;
}

/**
 * Key/value tags as badges. With `max`, the rest collapse into a "+N"; with `onRemove`, each
 * badge gets a remove button.
 */
export function TagList({ tags, max, className, onRemove }: { tags: KeyValue[]; max?: number; className?: string; onRemove?: (key: string) => void }) {
  const shown = max === undefined ? tags : tags.slice(0, max);
  return (
    <div className={`tag-list${className ? ` ${className}` : ''}`}>
      {shown.map((t) => (
        <Badge key={t.key} title={`${t.key}=${t.value}`}>
          <span className="tag-key">{t.key}</span>
          {t.value && <span className="tag-value">{t.value}</span>}
          {onRemove && (
            <button type="button" className="tag-remove" aria-label={`Remove tag ${t.key}`} onClick={() => onRemove(t.key)}>
              <CloseIcon size={11} />
            </button>
          )}
        </Badge>
      ))}
      {tags.length > shown.length && <span className="muted small">+{tags.length - shown.length}</span>}
      {tags.length === 0 && <span className="muted">—</span>}
    </div>
  );
}

export interface TabSpec<T extends string> {
  id: T;
  label: string;
}

/** The tab the URL's ?tab= names (the first when it names none), so a tab can be linked to and survives a reload. */
export function useSearchTab<T extends string>(tabs: readonly TabSpec<T>[]): T {
  const [params] = useSearchParams();
  const wanted = params.get('tab');
  return tabs.find((t) => t.id === wanted)?.id ?? tabs[0]!.id;
}

/** Tabs that switch ?tab= and keep the rest of the query string. */
export function SearchTabs<T extends string>({
  label,
  tabs,
  current,
  counts,
  testIdPrefix,
}: {
  label: string;
  tabs: readonly TabSpec<T>[];
  current: T;
  counts?: Partial<Record<T, number>>;
  testIdPrefix: string;
}) {
  const [params] = useSearchParams();
  const link = (t: T) => {
    const next = new URLSearchParams(params);
    next.set('tab', t);
    return `?${next.toString()}`;
  };
  return (
    <nav className="tabs" aria-label={label}>
      {tabs.map((t) => (
        <Link
          key={t.id}
          to={link(t.id)}
          replace
          className={`tab${current === t.id ? ' active' : ''}`}
          aria-current={current === t.id ? 'page' : undefined}
          data-testid={`${testIdPrefix}-${t.id}`}
        >
          {t.label}
          {counts?.[t.id] !== undefined && <span className="tab-count">{counts[t.id]}</span>}
        </Link>
      ))}
    </nav>
  );
}

export function BackLink({ to, children }: { to: string; children: ReactNode }) {
  return (
    <Link to={to} className="back-link">
      <ChevronLeftIcon size={14} /> {children}
    </Link>
  );
}

/** What an error view reads of a failed query to offer a retry; a react-query result fits as it is. */
export interface FailedQuery {
  error: unknown;
  isFetching?: boolean;
  refetch: () => unknown;
}

/** A failed query's message with a "Try again" button, in place of the data it could not load; nothing while it has not failed. */
export function QueryError({ query, testId }: { query: FailedQuery; testId?: string }) {
  if (!query.error) return null;
  return (
    <div className="query-error">
      <ErrorText error={query.error} testId={testId} />
      <Button size="sm" onClick={() => void query.refetch()} pending={query.isFetching} data-testid="retry">
        Try again
      </Button>
    </div>
  );
}

/** The whole page when the thing it shows could not be loaded: a way back, the server's reason and a retry. */
export function LoadFailed({ title, query, back }: { title: string; query: FailedQuery; back: { to: string; label: string } }) {
  return (
    <div className="page">
      <BackLink to={back.to}>{back.label}</BackLink>
      <EmptyCard title={title} action={<QueryError query={query} />} />
    </div>
  );
}

export function Spinner({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="loading" role="status">
      <span className="spinner" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}

/** An inline error for a form or a failed query; shows the server's own message. */
export function ErrorText({ error, testId }: { error: unknown; testId?: string }) {
  if (!error) return null;
  return (
    <div className="form-error" role="alert" data-testid={testId ?? 'form-error'}>
      <WarningIcon size={14} />
      <span>{errorMessage(error)}</span>
    </div>
  );
}

export function EmptyState({ icon, title, children, action }: { icon?: ReactNode; title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className="empty-state" data-testid="empty-state">
      {icon && <div className="empty-icon">{icon}</div>}
      <h2>{title}</h2>
      {children && <p>{children}</p>}
      {action && <div className="empty-action">{action}</div>}
    </div>
  );
}

/** An EmptyState on a card of its own, in place of a page's content it cannot show. */
export function EmptyCard(props: Parameters<typeof EmptyState>[0]) {
  return (
    <div className="card">
      <EmptyState {...props} />
    </div>
  );
}

export function PageHeader({ title, description, actions }: { title: ReactNode; description?: ReactNode; actions?: ReactNode }) {
  return (
    <header className="page-header">
      <div>
        <h1>{title}</h1>
        {description && <p className="page-description">{description}</p>}
      </div>
      {actions && <div className="page-actions">{actions}</div>}
    </header>
  );
}

export function Field({ label, hint, children, htmlFor }: { label: string; hint?: ReactNode; children: ReactNode; htmlFor: string }) {
  return (
    <div className="field">
      <label htmlFor={htmlFor}>{label}</label>
      {children}
      {hint && <div className="field-hint">{hint}</div>}
    </div>
  );
}

/**
 * A modal on the native <dialog>: the browser gives focus trapping, Escape and the top layer,
 * so no portal or focus library is needed.
 */
export function Dialog({
  open,
  onClose,
  title,
  children,
  footer,
  testId,
  width = 440,
  dismissable = true,
}: {
  open: boolean;
  onClose: () => void;
  title: ReactNode;
  children: ReactNode;
  footer?: ReactNode;
  testId?: string;
  width?: number;
  /** False for dialogs that must be closed with their own button (e.g. a secret shown once). */
  dismissable?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      className="dialog"
      style={{ width }}
      aria-labelledby={titleId}
      data-testid={testId}
      onCancel={(e) => {
        e.preventDefault();
        if (dismissable) onClose();
      }}
      onMouseDown={(e) => {
        if (dismissable && e.target === ref.current) onClose();
      }}
    >
      {open && (
        <div className="dialog-body">
          <h2 id={titleId} className="dialog-title">
            {title}
          </h2>
          {children}
          {footer && <div className="dialog-footer">{footer}</div>}
        </div>
      )}
    </dialog>
  );
}

export function ConfirmDialog({
  open,
  title,
  children,
  confirmLabel,
  onConfirm,
  onClose,
  pending,
  error,
}: {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  onClose: () => void;
  pending?: boolean;
  error?: unknown;
}) {
  return (
    <Dialog
      open={open}
      onClose={onClose}
      title={title}
      testId="confirm-dialog"
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="danger" onClick={onConfirm} pending={pending}>
            {confirmLabel}
          </Button>
        </>
      }
    >
      <div className="dialog-text">{children}</div>
      <ErrorText error={error} />
    </Dialog>
  );
}

const dateTime = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});
const dateOnly = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });

export function Time({ at, withTime = true }: { at: number | null | undefined; withTime?: boolean }) {
  if (at === null || at === undefined) return <span className="muted">—</span>;
  const d = new Date(at);
  return (
    <time dateTime={d.toISOString()} title={d.toISOString()} className="nowrap">
      {(withTime ? dateTime : dateOnly).format(d)}
    </time>
  );
}

export function relativeTime(at: number, now = Date.now()): string {
  const s = Math.round((now - at) / 1000);
  if (s < 45) return 'just now';
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 24) return `${h} h ago`;
  const d = Math.round(h / 24);
  if (d < 30) return `${d} d ago`;
  return dateOnly.format(new Date(at));
}
