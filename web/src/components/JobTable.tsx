import { createContext, useContext, type ReactNode } from 'react';
import { ChevronDownIcon } from './icons';
import type { DataAttributes } from './JobDetails';
import { TableHead, type Column } from './TableHead';
import './JobTable.css';

/** The column of the rows' expand buttons, before the table's own. */
const EXPAND: Column = { label: 'Details', className: 'job-expand-col', hidden: true };

interface Opening {
  /** What a row's details span: the expand column and every column of the header. */
  columns: number;
  expandTestId: string;
  open: string | null;
  onOpen: (id: string | null) => void;
}
const OpeningContext = createContext<Opening>({ columns: 1, expandTestId: '', open: null, onOpen: () => {} });

/** A table of jobs (runs, deploys, executions…) whose rows open in place onto their details, one row at a time. */
export function JobTable({
  columns,
  testId,
  className,
  expandTestId,
  open,
  onOpen,
  children,
}: {
  columns: Column[];
  testId: string;
  className?: string;
  /** The test id of every row's expand button. */
  expandTestId: string;
  /** The id of the open row. */
  open: string | null;
  onOpen: (id: string | null) => void;
  /** JobRows. */
  children: ReactNode;
}) {
  return (
    <table className={className ? `table table-clickable ${className}` : 'table table-clickable'} data-testid={testId}>
      <TableHead columns={[EXPAND, ...columns]} />
      <OpeningContext.Provider value={{ columns: columns.length + 1, expandTestId, open, onOpen }}>
        <tbody>{children}</tbody>
      </OpeningContext.Provider>
    </table>
  );
}

/** One job of a JobTable: a click anywhere on the row (but its links) opens or closes its details, shown in a row below it. */
export function JobRow({
  id,
  testId,
  status,
  details,
  children,
  ...data
}: {
  id: string;
  testId: string;
  status: string;
  details: ReactNode;
  /** The row's cells after the expand button, one per column. */
  children: ReactNode;
} & DataAttributes) {
  const { columns, expandTestId, open, onOpen } = useContext(OpeningContext);
  const expanded = open === id;
  const toggle = () => onOpen(expanded ? null : id);
  return (
    <>
      <tr {...data} data-testid={testId} data-status={status} className={expanded ? 'row-open' : undefined} onClick={toggle}>
        <td className="job-expand-col">
          <button
            type="button"
            className="icon-button"
            aria-expanded={expanded}
            aria-label={expanded ? 'Hide details' : 'Show details'}
            onClick={(e) => {
              // The row's own click would toggle it back.
              e.stopPropagation();
              toggle();
            }}
            data-testid={expandTestId}
          >
            <ChevronDownIcon size={14} style={{ transform: expanded ? undefined : 'rotate(-90deg)' }} />
          </button>
        </td>
        {children}
      </tr>
      {expanded && (
        <tr className="row-details">
          <td colSpan={columns} className="job-details-cell">
            {details}
          </td>
        </tr>
      )}
    </>
  );
}
