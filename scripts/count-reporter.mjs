// A node:test reporter that counts leaf tests (a test with subtests counts through its subtests)
// and writes {passed, failed, skipped, failures:[...]} as JSON, for the run's closing line.
export default async function* countReporter(source) {
  const counts = { passed: 0, failed: 0, skipped: 0, failures: [] };
  const childSeen = new Map();
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { nesting, name, file, skip, todo, details } = event.data;
    const seen = childSeen.get(file) ?? [];
    childSeen.set(file, seen);
    const isLeaf = !seen[nesting + 1];
    seen[nesting + 1] = false;
    seen[nesting] = true;
    if (!isLeaf) continue;
    if (skip || todo) counts.skipped++;
    else if (event.type === 'test:pass') counts.passed++;
    else {
      counts.failed++;
      counts.failures.push(`${file ?? ''} › ${name}${details?.type === 'suite' ? ' (suite)' : ''}`);
    }
  }
  yield JSON.stringify(counts);
}
