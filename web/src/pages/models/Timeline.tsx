import type { ReactNode } from 'react';
import { useQuery } from '@tanstack/react-query';
import type { ForjaClient } from '@forja/client';
import { useClient, useSession } from '../../session';
import { keys } from '../../hooks';
import { EmptyState, Spinner, relativeTime, QueryError } from '../../components/ui';
import { StageBadge } from './format';

type Entry = Awaited<ReturnType<ForjaClient['models']['timeline']>>['items'][number];
type Tone = 'neutral' | 'stage' | 'alias' | 'approval' | 'approved' | 'rejected' | 'removed';

/** Everything that happened to the model, newest first, as the audit log recorded it. */
export function Timeline({ model }: { model: string }) {
  const client = useClient();
  const { group } = useSession();
  const timeline = useQuery({ queryKey: keys.modelTimeline(group, model), queryFn: () => client.models.timeline(model) });
  if (timeline.isPending) return <Spinner />;
  if (timeline.isError) return <QueryError query={timeline} />;
  if (timeline.data.items.length === 0) {
    return (
      <div className="card">
        <EmptyState title="Nothing recorded yet">Transitions, alias moves, approvals and edits of this model show up here.</EmptyState>
      </div>
    );
  }
  return (
    <div className="card card-pad">
      <ol className="timeline" data-testid="timeline">
        {timeline.data.items.map((e, i) => {
          const { tone, text, note } = describe(e, model);
          return (
            <li key={i} className={`timeline-item timeline-${tone}`} data-testid="timeline-item" data-action={e.action}>
              <span className="timeline-dot" aria-hidden="true" />
              <div className="timeline-body">
                <div>
                  <strong>{e.actor ?? 'someone'}</strong> {text}
                </div>
                {note && <div className="quote muted">“{note}”</div>}
              </div>
              <time className="timeline-time muted small" dateTime={new Date(e.at).toISOString()} title={new Date(e.at).toISOString()}>
                {relativeTime(e.at)}
              </time>
            </li>
          );
        })}
      </ol>
    </div>
  );
}

const text = (details: Entry['details'], key: string): string | undefined => {
  const v = details?.[key];
  return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
};

/** A sentence per audit action; the actions are the registry service's, unknown ones are shown raw. */
function describe(e: Entry, model: string): { tone: Tone; text: ReactNode; note?: string } {
  const d = e.details;
  // Targets are "<model>", "<model>/<version>" or "<model>@<alias>".
  const rest = e.target?.startsWith(model) ? e.target.slice(model.length + 1) : undefined;
  const version = rest && <strong>version {rest}</strong>;
  const comment = text(d, 'comment');
  switch (e.action) {
    case 'model.create':
      return { tone: 'neutral', text: 'registered the model' };
    case 'model.rename':
      return { tone: 'neutral', text: <>renamed the model from {text(d, 'from')}</> };
    case 'model_version.create':
      return {
        tone: 'neutral',
        text: (
          <>
            created {version} from <code>{text(d, 'source')}</code>
          </>
        ),
      };
    case 'model_version.delete':
      return { tone: 'removed', text: <>deleted {version}</> };
    case 'model_version.transition': {
      const archived = Array.isArray(d?.archived) ? d.archived.map(String) : [];
      return {
        tone: 'stage',
        text: (
          <>
            moved {version} from <StageBadge stage={text(d, 'from') ?? '?'} /> to <StageBadge stage={text(d, 'to') ?? '?'} />
            {archived.length > 0 && <>, archiving version {archived.join(', ')}</>}
            {d?.approval !== undefined && <span className="muted"> (approved request)</span>}
          </>
        ),
      };
    }
    case 'model_alias.set': {
      const previous = text(d, 'previous');
      return {
        tone: 'alias',
        text: (
          <>
            {previous ? 'moved' : 'set'} <strong>@{rest}</strong> {previous ? <>from version {previous} </> : null}to version {text(d, 'version')}
          </>
        ),
      };
    }
    case 'model_alias.delete':
      return {
        tone: 'removed',
        text: (
          <>
            deleted <strong>@{rest}</strong> (was on version {text(d, 'previous')})
          </>
        ),
      };
    case 'approval.request':
      return {
        tone: 'approval',
        text: (
          <>
            asked to move {version} to <StageBadge stage={text(d, 'to') ?? '?'} />
          </>
        ),
        note: comment,
      };
    case 'approval.approve':
      return {
        tone: 'approved',
        text: (
          <>
            approved moving {version} to <StageBadge stage={text(d, 'to') ?? '?'} />
          </>
        ),
        note: comment,
      };
    case 'approval.reject':
      return {
        tone: 'rejected',
        text: (
          <>
            rejected moving {version} to <StageBadge stage={text(d, 'to') ?? '?'} />
          </>
        ),
        note: comment,
      };
    default:
      return {
        tone: 'neutral',
        text: (
          <>
            <code>{e.action}</code> {e.target}
          </>
        ),
      };
  }
}
