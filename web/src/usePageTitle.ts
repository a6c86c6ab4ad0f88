import { useEffect } from 'react';

/**
 * Sets the browser tab's title from the most specific part to the least, ending with Forja:
 * `usePageTitle(run?.name, 'Runs')` gives "sweep-1 · Runs · Forja". Parts still loading
 * (undefined or empty) are left out, so the title fills in as the page's data arrives.
 */
export function usePageTitle(...parts: Array<string | null | undefined>): void {
  const title = [...parts.filter((p): p is string => Boolean(p)), 'Forja'].join(' · ');
  useEffect(() => {
    document.title = title;
  }, [title]);
}
