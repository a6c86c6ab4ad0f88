import type { ComponentType, SVGProps } from 'react';
import { Badge, EmptyState, PageHeader } from '../components/ui';
import { useSession } from '../session';

/** A section of Forja that is designed but not built yet: says what it will do, shows no fake data. */
export function SectionPlaceholder({
  title,
  heading,
  purpose,
  icon: Icon,
}: {
  title: string;
  /** What the section will be, e.g. "Model registry". */
  heading: string;
  purpose: string;
  icon: ComponentType<SVGProps<SVGSVGElement> & { size?: number }>;
}) {
  const { group } = useSession();
  return (
    <div className="page" data-testid={`section-${title.toLowerCase()}`}>
      <PageHeader
        title={title}
        description={
          group ? (
            <>
              Group <strong>{group}</strong>
            </>
          ) : undefined
        }
      />
      <div className="card">
        <EmptyState icon={<Icon size={26} />} title={heading} action={<Badge>Coming soon</Badge>}>
          {purpose}
        </EmptyState>
      </div>
    </div>
  );
}
