import type { SVGProps } from 'react';

// Drawn like components/icons.tsx (24-unit line icons); its own file so the navigation loads it without the pipeline pages.
/** The navigation's icon for pipelines: three steps joined as a small DAG. */
export function PipelineIcon({ size = 16, ...rest }: SVGProps<SVGSVGElement> & { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={1.8} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false" {...rest}>
      <rect x="2.5" y="9.5" width="6" height="5" rx="1.2" />
      <rect x="15.5" y="3.5" width="6" height="5" rx="1.2" />
      <rect x="15.5" y="15.5" width="6" height="5" rx="1.2" />
      <path d="M8.5 12h2.5c1.2 0 1.8-.6 1.8-1.8V7.8c0-1.2.6-1.8 1.8-1.8h.9M11 12h.0M12.8 13.8v2.4c0 1.2.6 1.8 1.8 1.8h.9" />
    </svg>
  );
}
