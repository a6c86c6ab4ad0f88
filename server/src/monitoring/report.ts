// The shareable report of one monitor run: a single HTML file with its CSS and SVG charts inline,
// no script and no external fetch, so it can be mailed, archived or opened offline. Every string
// that a user or the data chose (names, descriptions, column names, category values, errors) is
// escaped.
import type { ColumnDrift, Monitor, MonitorRun } from '@forja/contracts';
import { COLORS, distributionSvg, esc, fmt, importanceSvg, pct } from './report-svg.js';

export type ReportMonitor = Pick<Monitor, 'name' | 'group' | 'description' | 'target' | 'reference' | 'period'>;

const utc = (ms: number) =>
  new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');

function targetText(m: ReportMonitor): string {
  return 'deployment' in m.target ? `deployment ${m.target.deployment}` : `table ${m.target.table} (time column ${m.target.timeColumn})`;
}

function referenceText(m: ReportMonitor): string {
  const r = m.reference;
  if (!r) return 'not set';
  switch (r.kind) {
    case 'table':
      return `table ${r.table}${r.version !== undefined ? ` VERSION ${r.version}` : ''}${r.filter ? ` where ${r.filter}` : ''}`;
    case 'run':
      return `tracking run ${r.runId}${r.dataset ? ` (dataset ${r.dataset})` : ''}`;
    case 'training':
      return `training run ${r.trainingId}`;
    case 'file':
      return `uploaded file ${r.name} (${r.rows} rows)`;
  }
}

function tile(label: string, value: string, bad = false): string {
  return `<div class="tile${bad ? ' bad' : ''}"><div class="label">${esc(label)}</div><div class="value">${esc(value)}</div></div>`;
}

/** What else a column's row says beyond its test: missing values, values outside the reference's range, unseen categories, why no test ran. */
function columnNotes(c: ColumnDrift): string {
  const notes: string[] = [];
  if (c.note) notes.push(c.note);
  if (c.missing.current > 0 || c.missing.reference > 0) notes.push(`missing ${pct(c.missingShare.reference)} → ${pct(c.missingShare.current)}`);
  if (c.infinite.current > 0 || c.infinite.reference > 0) notes.push(`±Inf ${c.infinite.reference} → ${c.infinite.current}`);
  if (c.range && c.range.outsideShare > 0) notes.push(`${pct(c.range.outsideShare)} outside [${fmt(c.range.min)}, ${fmt(c.range.max)}]`);
  if (c.unseen && c.unseen.share > 0) notes.push(`${pct(c.unseen.share)} unseen (${c.unseen.examples.slice(0, 3).join(', ')})`);
  return esc(notes.join('; '));
}

function driftSection(run: MonitorRun): string {
  const drift = run.drift;
  if (!drift) return '<section><h2>Data drift</h2><p class="muted">This run computed no drift.</p></section>';
  // Drifted columns first, then by how far each is past its threshold.
  const columns = [...drift.columns].sort((a, b) => Number(b.drifted) - Number(a.drifted) || a.column.localeCompare(b.column));
  const rows = columns
    .map(
      (c) =>
        `<tr class="${c.drifted ? 'drifted' : ''}" data-column="${esc(c.column)}"><td class="name">${esc(c.column)}</td><td>${c.kind}</td><td>${c.result.method}</td>` +
        `<td class="num">${fmt(c.result.statistic)}</td><td class="num">${fmt(c.result.pValue)}</td><td class="num">${fmt(c.result.threshold)}</td>` +
        `<td>${c.drifted ? '<span class="badge red">drifted</span>' : '<span class="badge green">stable</span>'}</td><td class="notes">${columnNotes(c)}</td></tr>`,
    )
    .join('');
  const charts = columns
    .filter((c) => c.distribution)
    .map(
      (c) =>
        `<figure class="${c.drifted ? 'drifted' : ''}"><figcaption><strong>${esc(c.column)}</strong> ${c.drifted ? '<span class="badge red">drifted</span>' : ''}<span class="muted"> ${c.result.method} ${fmt(c.result.statistic)}</span></figcaption>${distributionSvg(c.distribution!, c.drifted)}</figure>`,
    )
    .join('');
  return `<section><h2>Data drift</h2>
<p>${drift.driftedColumns} of ${drift.columns.length} columns drifted (${pct(drift.driftShare)}): the dataset ${drift.datasetDrift ? '<strong class="red-text">drifted</strong>' : 'did not drift'}. Reference ${fmt(drift.referenceRows)} rows, current ${fmt(drift.currentRows)} rows.</p>
<table><thead><tr><th>Column</th><th>Kind</th><th>Method</th><th class="num">Statistic</th><th class="num">p-value</th><th class="num">Threshold</th><th>Result</th><th>Notes</th></tr></thead><tbody>${rows}</tbody></table>
<h3>Reference vs current</h3><p class="legend"><span class="key" style="background:${COLORS.reference}"></span> reference <span class="key" style="background:${COLORS.current}"></span> current <span class="key" style="background:${COLORS.drifted}"></span> current, drifted</p>
<div class="charts">${charts}</div></section>`;
}

function performanceSection(run: MonitorRun): string {
  const p = run.performance;
  if (!p) return '';
  const degraded = new Set(p.degraded.map((d) => d.metric));
  const rows = Object.entries(p.metrics)
    .map(
      ([name, value]) =>
        `<tr class="${degraded.has(name) ? 'drifted' : ''}"><td class="name">${esc(name)}</td><td class="num">${fmt(value)}</td><td class="num">${fmt(p.baseline?.[name])}</td><td>${degraded.has(name) ? '<span class="badge red">degraded</span>' : ''}</td></tr>`,
    )
    .join('');
  return `<section><h2>Performance</h2><p>${p.task}, ${fmt(p.labelledRows)} labelled rows in the window.</p>
<table><thead><tr><th>Metric</th><th class="num">Current</th><th class="num">Baseline</th><th></th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

function explanationSection(run: MonitorRun): string {
  const e = run.explanations;
  if (!e) return '';
  const rows = [...e.importance].sort((a, b) => b.current - a.current);
  return `<section><h2>Feature importance (mean |SHAP|)</h2><p>${esc(e.explainer)} explainer on ${fmt(e.rows)} rows.</p>
<p class="legend"><span class="key" style="background:${COLORS.current}"></span> current <span class="key" style="background:${COLORS.reference}"></span> reference</p>${importanceSvg(rows)}</section>`;
}

function metricsSection(run: MonitorRun): string {
  const names = Object.keys(run.metrics).sort();
  if (names.length === 0) return '';
  const rows = names.map((n) => `<tr><td class="name">${esc(n)}</td><td class="num">${fmt(run.metrics[n])}</td></tr>`).join('');
  return `<section><details><summary>Every metric of the run (${names.length})</summary><table><tbody>${rows}</tbody></table></details></section>`;
}

const CSS = `
body{margin:0;background:#f6f6f7;color:#18181b;font:13px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1100px;margin:0 auto;padding:28px 24px 48px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:15px;margin:0 0 10px}h3{font-size:13px;margin:16px 0 6px}
.muted{color:#71717a}.meta{color:#71717a;margin-bottom:18px}.meta span+span:before{content:" · "}
section{background:#fff;border:1px solid #e4e4e7;border-radius:8px;padding:16px 18px;margin-top:14px}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:10px;margin-top:14px}
.tile{background:#fff;border:1px solid #e4e4e7;border-radius:8px;padding:10px 12px}
.tile .label{font-size:11px;font-weight:600;text-transform:uppercase;letter-spacing:.04em;color:#71717a}
.tile .value{font-size:20px;font-weight:600;font-variant-numeric:tabular-nums}.tile.bad .value,.red-text{color:#b91c1c}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #f0f0f2;vertical-align:top}
th{font-size:11px;text-transform:uppercase;letter-spacing:.03em;color:#71717a;font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}td.name{font-family:ui-monospace,Menlo,Consolas,monospace}
tr.drifted td{background:#fef2f2}td.notes{color:#71717a;font-size:12px}
.badge{display:inline-block;padding:0 7px;border-radius:9px;font-size:11px;font-weight:600}
.badge.red{background:#fee2e2;color:#b91c1c}.badge.green{background:#dcfce7;color:#15803d}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:12px}
figure{margin:0;border:1px solid #e4e4e7;border-radius:6px;padding:8px}figure.drifted{border-color:#fca5a5}
figure svg{display:block;width:100%;height:auto}
figcaption{margin-bottom:4px;font-family:ui-monospace,Menlo,Consolas,monospace}
.legend{color:#71717a;font-size:12px}.key{display:inline-block;width:10px;height:10px;border-radius:2px;vertical-align:-1px;margin:0 3px 0 10px}
.error{background:#fef2f2;border-color:#fca5a5;color:#991b1b;white-space:pre-wrap}
footer{margin-top:18px;color:#a1a1aa;font-size:11px}
`;

/** The whole report of one run, as one HTML document. */
export function renderRunReport(monitor: ReportMonitor, run: MonitorRun, generatedAt: number): string {
  const drift = run.drift;
  const p = run.performance;
  const tiles = [
    tile('Status', run.status, run.status === 'failed'),
    tile('Rows in window', fmt(run.currentRows ?? run.metrics.rows ?? null)),
    tile('Reference rows', fmt(run.referenceRows)),
    drift ? tile('Drifted columns', `${drift.driftedColumns} / ${drift.columns.length}`, drift.driftedColumns > 0) : '',
    drift ? tile('Dataset drift', drift.datasetDrift ? 'yes' : 'no', drift.datasetDrift) : '',
    p ? tile('Degraded metrics', String(p.degraded.length), p.degraded.length > 0) : '',
  ].join('');
  const title = `${monitor.name}: run of ${utc(run.windowStart)} – ${utc(run.windowEnd)}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title><style>${CSS}</style></head>
<body><main>
<h1>Monitor ${esc(monitor.name)}</h1>
<div class="meta"><span>group ${esc(monitor.group)}</span><span>${esc(targetText(monitor))}</span><span>reference: ${esc(referenceText(monitor))}</span><span>period ${monitor.period}</span></div>
${monitor.description ? `<p>${esc(monitor.description)}</p>` : ''}
<div class="meta"><span>run ${esc(run.id)} (${run.trigger})</span><span>window ${utc(run.windowStart)} – ${utc(run.windowEnd)}</span>${run.finishedAt ? `<span>finished ${utc(run.finishedAt)}</span>` : ''}</div>
<div class="tiles">${tiles}</div>
${run.error ? `<section class="error"><h2>The run failed</h2>${esc(run.error)}</section>` : ''}
${run.problems.length > 0 ? `<section class="error"><h2>Not computed</h2><ul>${run.problems.map((p) => `<li><strong>${p.part}</strong>: ${esc(p.message)}</li>`).join('')}</ul></section>` : ''}
${driftSection(run)}${performanceSection(run)}${explanationSection(run)}${metricsSection(run)}
<footer>Forja monitoring report, generated ${utc(generatedAt)}. Self-contained: no script, nothing fetched.</footer>
</main></body></html>
`;
}
