/** A header cell: its label, or its label and a class such as "num"; a `hidden` label is read only by screen readers. */
export type Column = string | { label: string; className: string; hidden?: boolean };

/** A column of numbers, aligned right. */
export const num = (label: string): Column => ({ label, className: 'num' });

/** The column of each row's buttons, which needs no visible label. */
export const ACTIONS: Column = { label: 'Actions', className: 'col-actions', hidden: true };

/** A table's header row; a `false` column is left out (one only some people see). */
export function TableHead({ columns }: { columns: (Column | false)[] }) {
  return (
    <thead>
      <tr>
        {columns.map((c) =>
          c === false ? null : typeof c === 'string' ? (
            <th key={c}>{c}</th>
          ) : (
            <th key={c.label} className={c.className}>
              {c.hidden ? <span className="sr-only">{c.label}</span> : c.label}
            </th>
          ),
        )}
      </tr>
    </thead>
  );
}
