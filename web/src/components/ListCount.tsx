/** "3 users", or "3+ users" while more pages are left to load. */
export function ListCount({ count, things, more, testId }: { count: number; things: [plural: string, singular: string]; more?: boolean; testId?: string }) {
  return (
    <span className="muted" data-testid={testId}>
      {count}
      {more ? '+' : ''} {count === 1 ? things[1] : things[0]}
    </span>
  );
}
