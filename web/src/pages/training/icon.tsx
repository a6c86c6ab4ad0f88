import type { SVGProps } from 'react';

// Drawn like components/icons.tsx (24-unit line icons); its own file so the navigation loads it without the training pages.
/** The navigation's icon for training: a rising learning curve on axes. */
export function TrainingIcon({ size = 16, ...rest }: SVGProps<SVGSVGElement> & { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={1.8} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false" {...rest}>
      <path d="M3.5 3.5v17h17" />
      <path d="M6.5 16.5c2-5 4-7.5 6.5-8.5 2.2-.9 4.4-.9 6.5-.9" />
      <circle cx="13" cy="8" r="1.4" />
    </svg>
  );
}
