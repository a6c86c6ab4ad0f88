import { useMemo, useRef } from 'react';
import type { PipelineAction } from '@forja/contracts';
import { formatDuration } from '../tracking/format';
import { stepDuration, stepHelp, stepLabel, type StepStatus } from './format';
import { usePanZoom } from './usePanZoom';

export interface DagStep {
  id: string;
  action: PipelineAction;
  needs: string[];
  status?: StepStatus;
  startedAt?: number | null;
  finishedAt?: number | null;
}

const NODE_W = 196;
const NODE_H = 58;
const COL_GAP = 72;
const ROW_GAP = 18;
const PAD = 20;
/** The box the graph is fitted into is as tall as the graph, within these bounds. */
const BOX_MIN_H = 160;
const BOX_MAX_H = 460;

interface Placed {
  step: DagStep;
  depth: number;
  x: number;
  y: number;
}

/**
 * Columns by depth (a step sits one column right of the deepest step it needs); inside a column
 * the steps follow the mean row of what they need, so edges cross as little as a simple rule allows.
 */
export function layoutDag(steps: DagStep[]): { nodes: Placed[]; width: number; height: number } {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const depth = new Map<string, number>();
  const depthOf = (id: string, seen: Set<string>): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    if (seen.has(id)) return 0; // a cycle: the server refuses them, so only a guard
    seen.add(id);
    const needs = (byId.get(id)?.needs ?? []).filter((n) => byId.has(n));
    const d = needs.length === 0 ? 0 : 1 + Math.max(...needs.map((n) => depthOf(n, seen)));
    depth.set(id, d);
    return d;
  };
  for (const s of steps) depthOf(s.id, new Set());
  const columns: DagStep[][] = [];
  for (const s of steps) (columns[depth.get(s.id)!] ??= []).push(s);
  const row = new Map<string, number>();
  columns.forEach((col, c) => {
    if (c > 0) {
      const order = new Map(steps.map((s, i) => [s.id, i]));
      const mean = (s: DagStep) => {
        const rows = s.needs.map((n) => row.get(n)).filter((r): r is number => r !== undefined);
        return rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : 0;
      };
      col.sort((a, b) => mean(a) - mean(b) || order.get(a.id)! - order.get(b.id)!);
    }
    for (const [i, s] of col.entries()) row.set(s.id, i - (col.length - 1) / 2);
  });
  const tallest = Math.max(1, ...columns.map((c) => c?.length ?? 0));
  const height = PAD * 2 + tallest * NODE_H + (tallest - 1) * ROW_GAP;
  const width = PAD * 2 + columns.length * NODE_W + Math.max(0, columns.length - 1) * COL_GAP;
  const nodes: Placed[] = [];
  for (const [c, col] of columns.entries()) {
    for (const s of col ?? []) {
      const r = row.get(s.id)!;
      nodes.push({ step: s, depth: c, x: PAD + c * (NODE_W + COL_GAP), y: height / 2 - NODE_H / 2 + r * (NODE_H + ROW_GAP) });
    }
  }
  return { nodes, width, height };
}

/**
 * A pipeline's steps as a graph: boxes with their action and status, edges from each step to what
 * needs it; fitted into its box whatever the number of steps, with zoom and pan to read a big one.
 */
export function Dag({
  steps,
  selected,
  onSelect,
  testId = 'dag',
}: {
  steps: DagStep[];
  selected?: string | null;
  onSelect?: (id: string) => void;
  testId?: string;
}) {
  const { nodes, width, height } = useMemo(() => layoutDag(steps), [steps]);
  const box = useRef<HTMLDivElement>(null);
  const { view, fit, zoomIn, zoomOut, canZoomIn, canZoomOut } = usePanZoom(box, width, height);
  const at = new Map(nodes.map((n) => [n.step.id, n]));
  const edges = nodes.flatMap((n) =>
    n.step.needs
      .map((need) => at.get(need))
      .filter((from): from is Placed => from !== undefined)
      .map((from) => ({ from, to: n })),
  );
  return (
    <div className="pl-dag-frame">
      <div
        ref={box}
        className="pl-dag-scroll pl-dag-viewport"
        style={{ height: Math.min(BOX_MAX_H, Math.max(BOX_MIN_H, height)) }}
        data-testid={testId}
        data-zoom={view.k.toFixed(3)}
      >
        <div className="pl-dag" style={{ width, height, transform: `translate(${view.x}px, ${view.y}px) scale(${view.k})` }}>
          <svg className="pl-dag-edges" width={width} height={height} aria-hidden="true">
            <defs>
              {(['', 'done'] as const).map((kind) => (
                <marker
                  key={kind}
                  id={`pl-arrow${kind && `-${kind}`}`}
                  viewBox="0 0 8 8"
                  refX="7"
                  refY="4"
                  markerWidth="7"
                  markerHeight="7"
                  orient="auto-start-reverse"
                >
                  <path d="M0 0.5 7 4 0 7.5z" className={`pl-arrow-head ${kind}`} />
                </marker>
              ))}
            </defs>
            {edges.map(({ from, to }) => {
              const x1 = from.x + NODE_W;
              const y1 = from.y + NODE_H / 2;
              const x2 = to.x - 2;
              const y2 = to.y + NODE_H / 2;
              const mid = (x1 + x2) / 2;
              const state = from.step.status;
              const done = (state === 'succeeded' || state === 'reused') && to.step.status !== 'skipped' && to.step.status !== 'cancelled';
              const dead = to.step.status === 'skipped' || to.step.status === 'cancelled';
              const cls = ['pl-edge', done ? 'pl-edge-done' : '', dead ? 'pl-edge-dead' : ''].filter(Boolean).join(' ');
              return (
                <path
                  key={`${from.step.id}->${to.step.id}`}
                  className={cls}
                  d={`M${x1} ${y1} C${mid} ${y1}, ${mid} ${y2}, ${x2} ${y2}`}
                  markerEnd={`url(#pl-arrow${done ? '-done' : ''})`}
                  data-edge={`${from.step.id}->${to.step.id}`}
                />
              );
            })}
          </svg>
          {nodes.map(({ step: s, x, y }) => {
            const status = s.status;
            const duration = status ? stepDuration({ startedAt: s.startedAt ?? null, finishedAt: s.finishedAt ?? null, status }) : null;
            const Tag = onSelect ? 'button' : 'div';
            return (
              <Tag
                key={s.id}
                {...(onSelect ? { type: 'button' as const, onClick: () => onSelect(s.id), 'aria-pressed': selected === s.id } : {})}
                className={`pl-node${status ? ` pl-node-${status}` : ''}${selected === s.id ? ' selected' : ''}${onSelect ? ' clickable' : ''}`}
                style={{ left: x, top: y, width: NODE_W, height: NODE_H }}
                title={status ? `${s.id}: ${stepHelp[status]}` : s.id}
                data-testid={`dag-node-${s.id}`}
                data-status={status ?? 'none'}
              >
                <span className="pl-node-icon" aria-hidden="true">
                  <StatusGlyph status={status} />
                </span>
                <span className="pl-node-body">
                  <span className="pl-node-id">{s.id}</span>
                  <span className="pl-node-meta">
                    <span className="pl-node-action">{s.action}</span>
                    {status && (
                      <>
                        <span className="pl-node-dot">·</span>
                        <span className="pl-node-state">{stepLabel[status]}</span>
                      </>
                    )}
                    {duration !== null && <span className="pl-node-time">{formatDuration(duration)}</span>}
                  </span>
                </span>
              </Tag>
            );
          })}
        </div>
      </div>
      <div className="pl-dag-controls" role="toolbar" aria-label="Zoom the graph">
        <button
          type="button"
          className="icon-button"
          onClick={zoomIn}
          disabled={!canZoomIn}
          aria-label="Zoom in"
          title="Zoom in"
          data-testid={`${testId}-zoom-in`}
        >
          +
        </button>
        <button
          type="button"
          className="icon-button"
          onClick={zoomOut}
          disabled={!canZoomOut}
          aria-label="Zoom out"
          title="Zoom out"
          data-testid={`${testId}-zoom-out`}
        >
          −
        </button>
        <button
          type="button"
          className="icon-button pl-dag-fit"
          onClick={fit}
          aria-label="Fit the graph to its box"
          title="Fit to the box"
          data-testid={`${testId}-fit`}
        >
          Fit
        </button>
        <span className="pl-dag-zoom muted" aria-live="polite">
          {Math.round(view.k * 100)}%
        </span>
      </div>
    </div>
  );
}

/** A small glyph per status: a check, a cross, a spinner… drawn in the 16-unit box. */
function StatusGlyph({ status }: { status: StepStatus | undefined }) {
  if (status === 'running') return <span className="spinner spinner-inline" />;
  const common = {
    width: 14,
    height: 14,
    viewBox: '0 0 16 16',
    fill: 'none',
    stroke: 'currentColor',
    strokeWidth: 2,
    strokeLinecap: 'round' as const,
    strokeLinejoin: 'round' as const,
  };
  switch (status) {
    case 'succeeded':
      return (
        <svg {...common}>
          <path d="m3.5 8.5 3 3 6-7" />
        </svg>
      );
    case 'reused':
      return (
        <svg {...common}>
          <path d="M3 8a5 5 0 0 1 8.5-3.5L13 6M13 2.5V6H9.5M13 8a5 5 0 0 1-8.5 3.5L3 10M3 13.5V10h3.5" strokeWidth={1.6} />
        </svg>
      );
    case 'failed':
      return (
        <svg {...common}>
          <path d="m4.5 4.5 7 7M11.5 4.5l-7 7" />
        </svg>
      );
    case 'skipped':
      return (
        <svg {...common}>
          <path d="M3 8h7M8 5l3 3-3 3M13 4v8" strokeWidth={1.7} />
        </svg>
      );
    case 'cancelled':
      return (
        <svg {...common}>
          <circle cx="8" cy="8" r="5.5" strokeWidth={1.6} />
          <path d="m4.2 11.8 7.6-7.6" strokeWidth={1.6} />
        </svg>
      );
    case 'queued':
    case 'pending':
      return (
        <svg {...common}>
          <circle cx="8" cy="8" r="5.5" strokeWidth={1.6} strokeDasharray="2.4 2.2" />
        </svg>
      );
    default:
      return (
        <svg {...common}>
          <rect x="3" y="3" width="10" height="10" rx="2" strokeWidth={1.6} />
        </svg>
      );
  }
}
