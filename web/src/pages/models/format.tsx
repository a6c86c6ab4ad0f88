import { StageSchema, type ApprovalRequest, type ModelVersion, type Stage } from '@forja/contracts';
import { Badge, type Tone } from '../../components/ui';

export const STAGES = StageSchema.options;
/** Where a release ends up first: the order a model's newest version per stage is listed in. */
export const STAGES_BY_RELEASE: readonly Stage[] = ['Production', 'Staging', 'None', 'Archived'];

/** Stages a version is promoted into, the ones that can archive the versions already there. */
export const isServingStage = (stage: Stage): stage is 'Staging' | 'Production' => stage === 'Staging' || stage === 'Production';

// Keyed by any string: an approval request's from-stage is stored as plain text.
const stageTone: Partial<Record<string, Tone>> = { None: 'neutral', Staging: 'amber', Production: 'green', Archived: 'muted' } satisfies Record<Stage, Tone>;

export function StageBadge({ stage }: { stage: string }) {
  return (
    <Badge tone={stageTone[stage] ?? 'neutral'} title={`Stage: ${stage}`}>
      {stage}
    </Badge>
  );
}

const approvalTone: Record<ApprovalRequest['status'], Tone> = { pending: 'amber', approved: 'green', rejected: 'red', cancelled: 'muted' };

export function ApprovalStatusBadge({ status }: { status: ApprovalRequest['status'] }) {
  return <Badge tone={approvalTone[status]}>{status}</Badge>;
}

const versionStatus: Record<ModelVersion['status'], { tone: Tone; label: string }> = {
  READY: { tone: 'green', label: 'ready' },
  PENDING_REGISTRATION: { tone: 'blue', label: 'registering' },
  FAILED_REGISTRATION: { tone: 'red', label: 'failed' },
};

export function VersionStatusBadge({ status }: { status: ModelVersion['status'] }) {
  return <Badge tone={versionStatus[status].tone}>{versionStatus[status].label}</Badge>;
}

export function AliasChip({ alias }: { alias: string }) {
  return (
    <Badge tone="accent" title={`models:/…@${alias}`}>
      @{alias}
    </Badge>
  );
}

/** Who decides on approval requests: the group's named approvers, or else its admins. */
export const approversText = (approvers: string[]) => (approvers.length > 0 ? approvers.join(', ') : 'the group’s admins');

export const modelPath = (name: string) => `/models/${encodeURIComponent(name)}`;

export const MODELS = { to: '/models', label: 'Models' };
