import { useState, type FormEvent, type ReactNode } from 'react';
import { ForjaApiError } from '@forja/client';
import { errorMessage } from '../session';
import { Button } from './ui';
import { WarningIcon } from './icons';

/** A search's 400 means the filter is wrong (not the network or the server), so it is shown at the filter box. */
export const filterErrorOf = (error: unknown): ForjaApiError | undefined => (error instanceof ForjaApiError && error.status === 400 ? error : undefined);

/**
 * A box for the server's filter grammar: applies on Enter or Search, and under it either a hint on
 * the grammar or the server's message about the applied filter.
 */
export function FilterBar({
  filter,
  onApply,
  label,
  placeholder,
  testId,
  error,
  hint,
}: {
  /** The filter in effect (the box may hold an edited draft). */
  filter: string;
  onApply: (filter: string) => void;
  label: string;
  placeholder: string;
  testId: string;
  error: ForjaApiError | undefined;
  hint: ReactNode;
}) {
  const [draft, setDraft] = useState(filter);
  const apply = (e: FormEvent) => {
    e.preventDefault();
    onApply(draft.trim());
  };
  return (
    <>
      <form className="filter-bar" role="search" onSubmit={apply}>
        <input
          className="mono"
          aria-label={label}
          placeholder={placeholder}
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          spellCheck={false}
          data-testid={testId}
        />
        <Button type="submit" data-testid={`${testId}-apply`}>
          Search
        </Button>
        {filter && (
          <Button
            variant="ghost"
            onClick={() => {
              setDraft('');
              onApply('');
            }}
          >
            Clear
          </Button>
        )}
      </form>
      {error ? <FilterErrorText error={error} filter={filter} /> : <p className="filter-hint muted small">{hint}</p>}
    </>
  );
}

/** The server's message, with a caret under the place it names. */
function FilterErrorText({ error, filter }: { error: ForjaApiError; filter: string }) {
  const details = error.details as { position?: unknown } | undefined;
  const position = typeof details?.position === 'number' && details.position <= filter.length ? details.position : undefined;
  return (
    <div className="form-error filter-error" role="alert" data-testid="filter-error">
      <WarningIcon size={14} />
      <div>
        <div>{errorMessage(error)}</div>
        {position !== undefined && (
          <pre className="filter-caret" aria-hidden="true">
            {filter}
            {'\n'}
            {' '.repeat(position)}^
          </pre>
        )}
      </div>
    </div>
  );
}
