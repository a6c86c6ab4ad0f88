import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Link, NavLink, Navigate, Outlet, useLocation } from 'react-router';
import { useClient, useSession } from '../session';
import { useGroups, useWhoami } from '../hooks';
import { QueryError, Spinner } from './ui';
import {
  ChevronDownIcon,
  ClockIcon,
  CubeIcon,
  DatabaseIcon,
  FlaskIcon,
  ForjaMark,
  LayersIcon,
  LogoutIcon,
  PipelineIcon,
  ProjectIcon,
  PulseIcon,
  RocketIcon,
  ShieldIcon,
  SidebarIcon,
  TrainingIcon,
} from './icons';

export const sections = [
  { path: '/experiments', label: 'Experiments', icon: FlaskIcon },
  { path: '/training', label: 'Training', icon: TrainingIcon },
  { path: '/models', label: 'Models', icon: CubeIcon },
  { path: '/deployments', label: 'Deployments', icon: RocketIcon },
  { path: '/lake', label: 'Lake', icon: DatabaseIcon },
  { path: '/projects', label: 'Projects', icon: ProjectIcon },
  { path: '/pipelines', label: 'Pipelines', icon: PipelineIcon },
  { path: '/jobs', label: 'Jobs', icon: ClockIcon },
  { path: '/monitoring', label: 'Monitoring', icon: PulseIcon },
] as const;

/** Pages reached from a section that live outside its path, yet belong to it in the navigation. */
const alsoActive: Partial<Record<(typeof sections)[number]['path'], string[]>> = {
  '/experiments': ['/runs/', '/compare'],
  '/models': ['/approvals'],
  '/jobs': ['/workers'],
};

/** The signed-in shell: top bar, navigation and the page. Sends anyone without a session to /login. */
export function Layout() {
  const { token } = useSession();
  const location = useLocation();
  const me = useWhoami();

  if (!token) {
    const next = location.pathname + location.search;
    return <Navigate to={next === '/' ? '/login' : `/login?next=${encodeURIComponent(next)}`} replace />;
  }
  if (me.isPending) {
    return (
      <div className="fullpage-center">
        <Spinner />
      </div>
    );
  }
  if (me.isError) {
    return (
      <div className="fullpage-center">
        <div className="card narrow">
          <h2>Forja is not answering</h2>
          <QueryError query={me} />
        </div>
      </div>
    );
  }

  return (
    <div className="shell">
      <TopBar />
      <div className="shell-body">
        <Sidebar />
        <main className="content">
          {me.data?.user?.isAdmin && <SandboxBanner />}
          <Outlet />
        </main>
      </div>
    </div>
  );
}

/** Where the reader's choice of a collapsed or expanded sidebar is kept between visits. */
const SIDEBAR_KEY = 'forja.sidebar';
/** Below this width the sidebar starts as an icon rail, leaving ~970 px of page at 1024 px. */
const NARROW = '(max-width: 1099px)';

function subscribeNarrow(onChange: () => void) {
  const query = window.matchMedia(NARROW);
  query.addEventListener('change', onChange);
  return () => query.removeEventListener('change', onChange);
}

/**
 * Collapsed or not: the reader's last choice if they made one, otherwise by the window's width
 * (following it as the window is resized, until they choose).
 */
function useSidebarCollapsed(): [boolean, () => void] {
  const narrow = useSyncExternalStore(subscribeNarrow, () => window.matchMedia(NARROW).matches);
  const [chosen, setChosen] = useState(() => localStorage.getItem(SIDEBAR_KEY));
  const collapsed = chosen === null ? narrow : chosen === 'collapsed';
  const toggle = () => {
    const next = collapsed ? 'expanded' : 'collapsed';
    localStorage.setItem(SIDEBAR_KEY, next);
    setChosen(next);
  };
  return [collapsed, toggle];
}

/** The main navigation; collapsed, an icon rail whose labels stay readable to screen readers and as tooltips. */
function Sidebar() {
  const location = useLocation();
  const [collapsed, toggle] = useSidebarCollapsed();
  const item = (path: string, label: string, Icon: (typeof sections)[number]['icon'], active: boolean) => (
    <li key={path}>
      <NavLink to={path} className={({ isActive }) => `nav-item${isActive || active ? ' active' : ''}`} title={collapsed ? label : undefined}>
        <Icon />
        <span className="nav-label">{label}</span>
      </NavLink>
    </li>
  );
  return (
    <nav id="sidebar" className={`sidebar${collapsed ? ' collapsed' : ''}`} aria-label="Main" data-testid="sidebar">
      <ul>{sections.map(({ path, label, icon }) => item(path, label, icon, alsoActive[path]?.some((p) => location.pathname.startsWith(p)) ?? false))}</ul>
      <div className="sidebar-sep" />
      <ul>{item('/admin', 'Admin', ShieldIcon, false)}</ul>
      <button
        type="button"
        className="nav-item sidebar-toggle"
        aria-controls="sidebar"
        aria-expanded={!collapsed}
        title={collapsed ? 'Expand the sidebar' : undefined}
        onClick={toggle}
        data-testid="sidebar-toggle"
      >
        <SidebarIcon />
        <span className="nav-label">{collapsed ? 'Expand the sidebar' : 'Collapse the sidebar'}</span>
      </button>
    </nav>
  );
}

function TopBar() {
  return (
    <header className="topbar">
      <Link to="/" className="brand" aria-label="Forja home">
        <ForjaMark />
        <span>Forja</span>
      </Link>
      <span className="topbar-divider" aria-hidden="true" />
      <GroupSwitcher />
      <div className="topbar-spacer" />
      <UserMenu />
    </header>
  );
}

function GroupSwitcher() {
  const { group, setGroup } = useSession();
  const me = useWhoami();
  const groups = useGroups();

  // Falls back when the stored group was deleted or belongs to someone else who used this browser.
  useEffect(() => {
    if (!groups.data) return;
    const names = groups.data.map((g) => g.name);
    if (group && names.includes(group)) return;
    const preferred = me.data?.defaultGroup;
    setGroup(preferred && names.includes(preferred) ? preferred : names[0]);
  }, [groups.data, group, me.data?.defaultGroup, setGroup]);

  const list = groups.data ?? [];
  return (
    <div className="group-switcher">
      <LayersIcon className="muted" />
      <select
        aria-label="Group"
        data-testid="group-switcher"
        value={group && list.some((g) => g.name === group) ? group : ''}
        disabled={list.length === 0}
        onChange={(e) => setGroup(e.target.value || undefined)}
      >
        {list.length === 0 && <option value="">{groups.isPending ? 'Loading groups…' : 'No groups yet'}</option>}
        {list.map((g) => (
          <option key={g.id} value={g.name}>
            {g.name}
            {g.myRole ? ` · ${g.myRole}` : ''}
          </option>
        ))}
      </select>
      <ChevronDownIcon className="select-chevron" size={14} />
    </div>
  );
}

function UserMenu() {
  const { signOut } = useSession();
  const me = useWhoami();
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) setOpen(false);
    };
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && setOpen(false);
    document.addEventListener('mousedown', onDown);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('mousedown', onDown);
      document.removeEventListener('keydown', onKey);
    };
  }, [open]);

  const user = me.data?.user;
  const name = user?.username ?? me.data?.tokenName ?? 'token';
  return (
    <div className="user-menu" ref={ref}>
      <button type="button" className="user-button" aria-haspopup="menu" aria-expanded={open} data-testid="user-menu" onClick={() => setOpen((o) => !o)}>
        <span className="avatar" aria-hidden="true">
          {name.slice(0, 1).toUpperCase()}
        </span>
        <span className="user-name">{name}</span>
        <ChevronDownIcon size={14} className="muted" />
      </button>
      {open && (
        <div className="menu" role="menu">
          <div className="menu-header">
            <div className="menu-title">{user?.displayName || name}</div>
            <div className="muted small">
              {user ? (user.email ?? `@${user.username}`) : `${me.data?.kind} token`}
              {user?.isAdmin ? ' · system administrator' : ''}
            </div>
          </div>
          <Link role="menuitem" className="menu-item" to="/admin/tokens" onClick={() => setOpen(false)}>
            Your tokens
          </Link>
          <button
            role="menuitem"
            type="button"
            className="menu-item"
            data-testid="sign-out"
            onClick={() => {
              setOpen(false);
              void signOut();
            }}
          >
            <LogoutIcon size={14} />
            Sign out
          </button>
        </div>
      )}
    </div>
  );
}

/** Tells system administrators when user code runs unsandboxed, or cannot run at all, and why. */
function SandboxBanner() {
  const client = useClient();
  const status = useQuery({ queryKey: ['system', 'sandbox'], queryFn: () => client.sandboxStatus(), staleTime: 300_000 });
  if (!status.data || status.data.mode === 'bwrap') return null;
  return (
    <div className="callout callout-warning sandbox-banner" role="alert" data-testid="sandbox-banner">
      <span>
        {status.data.mode === 'off' ? (
          <>
            <strong>User code is not sandboxed.</strong> Models, scripts and pipeline steps run with this server’s user, files and network (FORJA_SANDBOX=off).
          </>
        ) : (
          <>
            <strong>User code cannot run here:</strong> {status.data.reason}. Deployments, executions and jobs fail until bubblewrap is installed.
          </>
        )}{' '}
        See docs/security.md.
      </span>
    </div>
  );
}
