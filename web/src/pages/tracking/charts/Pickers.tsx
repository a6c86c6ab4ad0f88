import { useId } from 'react';
import { CloseIcon } from '../../../components/icons';
import type { FieldOption } from './fields';

const GROUPS: FieldOption['group'][] = ['Metrics', 'Params', 'Tags', 'Attributes'];

function Options({ options }: { options: FieldOption[] }) {
  return GROUPS.map((g) => {
    const inGroup = options.filter((o) => o.group === g);
    return (
      inGroup.length > 0 && (
        <optgroup key={g} label={g}>
          {inGroup.map((o) => (
            <option key={o.id} value={o.id}>
              {o.label}
            </option>
          ))}
        </optgroup>
      )
    );
  });
}

/** A labelled choice of one field; `none` adds an empty choice with that text. */
export function FieldPicker({
  label,
  value,
  options,
  onChange,
  none,
  testId,
}: {
  label: string;
  value: string | undefined;
  options: FieldOption[];
  onChange: (id: string | undefined) => void;
  none?: string;
  testId: string;
}) {
  const id = useId();
  return (
    <div className="chart-control">
      <label htmlFor={id}>{label}</label>
      <select id={id} className="select-sm" value={value ?? ''} onChange={(e) => onChange(e.target.value || undefined)} data-testid={testId}>
        {(none !== undefined || !value) && <option value="">{none ?? 'Choose…'}</option>}
        <Options options={options} />
      </select>
    </div>
  );
}

/** A labelled choice among fixed values. */
export function ValuePicker<T extends string>({
  label,
  value,
  choices,
  onChange,
  testId,
}: {
  label: string;
  value: T;
  choices: { value: T; label: string }[];
  onChange: (v: T) => void;
  testId: string;
}) {
  const id = useId();
  return (
    <div className="chart-control">
      <label htmlFor={id}>{label}</label>
      <select id={id} className="select-sm" value={value} onChange={(e) => onChange(e.target.value as T)} data-testid={testId}>
        {choices.map((c) => (
          <option key={c.value} value={c.value}>
            {c.label}
          </option>
        ))}
      </select>
    </div>
  );
}

/** An ordered list of fields: each removable, more added from a menu. */
export function FieldListPicker({
  label,
  value,
  options,
  onChange,
  testId,
}: {
  label: string;
  value: string[];
  options: FieldOption[];
  onChange: (ids: string[]) => void;
  testId: string;
}) {
  const id = useId();
  const byId = new Map(options.map((o) => [o.id, o]));
  return (
    <div className="chart-control chart-control-list" data-testid={testId}>
      <label htmlFor={id}>{label}</label>
      <ul className="chart-chips">
        {value.map((v) => (
          <li key={v} className="chart-chip" data-axis={v}>
            {byId.get(v)?.label ?? v}
            <button type="button" aria-label={`Remove ${byId.get(v)?.label ?? v}`} onClick={() => onChange(value.filter((x) => x !== v))}>
              <CloseIcon size={12} />
            </button>
          </li>
        ))}
      </ul>
      <select id={id} className="select-sm" value="" onChange={(e) => e.target.value && onChange([...value, e.target.value])} data-testid={`${testId}-add`}>
        <option value="">Add…</option>
        <Options options={options.filter((o) => !value.includes(o.id))} />
      </select>
    </div>
  );
}
