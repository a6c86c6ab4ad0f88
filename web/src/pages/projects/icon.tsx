import type { SVGProps } from 'react';

// Drawn like components/icons.tsx (24-unit line icons); its own file so the navigation loads it without the project pages.
/** The navigation's icon for batch projects: a terminal window with a prompt. */
export function ProjectIcon({ size = 16, ...rest }: SVGProps<SVGSVGElement> & { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={1.8} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false" {...rest}>
      <rect x="3" y="4.5" width="18" height="15" rx="2" />
      <path d="m7.5 10 3 2.5-3 2.5M13 15h3.5" />
    </svg>
  );
}
