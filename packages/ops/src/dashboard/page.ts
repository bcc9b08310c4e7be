import { optimizePanelScript, optimizePanelSection } from '../optimize/panel';
import { lakeviewStyles } from './lakeview/client';
import type { LakeviewView } from './lakeview/model';
import { liveLakeviewScripts, staticLakeviewScripts } from './lakeview/scripts';

import { qualityPanelScript, qualitySections } from './qualityPanel';
import type { DashboardSnapshot } from './snapshot';

/**
 * The dashboard's single page: plain HTML/CSS/JS. Live it is fed by Server-Sent Events from /api/stream; the static
 * variant carries one snapshot (charts inlined as data URIs) and needs no server, so it opens from a file.
 */
const page = (o: { boot: string; optimize: boolean; title: string; lakeview: string }): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${o.title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  :root { --bg:#0f1420; --panel:#171e2e; --line:#26304a; --text:#e6e9f0; --dim:#8d97ad; --ok:#3ecf8e; --bad:#ff5d6c; --warn:#f5b94a; --info:#5aa9ff; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; background:var(--bg); color:var(--text); }
  header { display:flex; align-items:center; gap:16px; padding:14px 24px; border-bottom:1px solid var(--line); }
  header h1 { font-size:18px; margin:0; font-weight:600; }
  #live { font-size:12px; color:var(--dim); }
  #live.on::before { content:"●"; color:var(--ok); margin-right:6px; }
  #live.off::before { content:"●"; color:var(--bad); margin-right:6px; }
  main { display:grid; grid-template-columns: 1fr 1fr; gap:16px; padding:16px 24px; }
  section { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:12px 16px; overflow:auto; }
  section.wide { grid-column: 1 / -1; }
  h2 { font-size:14px; text-transform:uppercase; letter-spacing:.06em; color:var(--dim); margin:2px 0 10px; }
  table { border-collapse:collapse; width:100%; }
  th, td { text-align:left; padding:5px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
  th { color:var(--dim); font-weight:500; font-size:12px; }
  td.mono, .mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size:12px; }
  .pill { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600; }
  .s-succeeded { background:rgba(62,207,142,.15); color:var(--ok); }
  .s-failed { background:rgba(255,93,108,.15); color:var(--bad); }
  .s-running, .s-dispatched { background:rgba(90,169,255,.15); color:var(--info); }
  .s-requested, .s-skipped, .s-cancelled { background:rgba(141,151,173,.15); color:var(--dim); }
  .sev-0, .sev-1 { color:var(--bad); } .sev-2 { color:var(--warn); } .sev-3, .sev-4 { color:var(--info); }
  .empty { color:var(--dim); font-style:italic; }
  .err { color:var(--warn); font-size:12px; }
  .counts span { margin-right:14px; color:var(--dim); } .counts b { color:var(--text); }
  .charts { display:flex; flex-wrap:wrap; gap:12px; } .charts figure { margin:0; } .charts img { max-width:420px; border-radius:6px; background:#fff; }
  figcaption { color:var(--dim); font-size:12px; }
  a { color:var(--info); }
  .inputs { max-width:420px; } .inputs summary { cursor:pointer; } .inputs div { white-space:nowrap; overflow:hidden; text-overflow:ellipsis; }
  .headlines { display:grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap:10px; }
  .headline { border:1px solid var(--line); border-radius:6px; padding:8px 12px; }
  .headline .label { color:var(--dim); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
  .headline .value { font-size:16px; font-weight:600; margin:2px 0; }
  .headline .detail { color:var(--dim); font-size:12px; }
${lakeviewStyles}
</style>
</head>
<body>
<header><h1>${o.title}</h1><span id="live" class="off">connecting…</span><span id="generated" class="mono" style="color:var(--dim)"></span></header>
<main>
  <section class="wide" id="insights-section"><h2>Insights (gold)</h2><div id="headlines"></div></section>
  <section class="wide" id="lakeview-section"><h2>Dashboard (gold, from the bundle's .lvdash.json)</h2><div id="lakeview"><div class="empty">Loading…</div></div></section>
  <section class="wide" id="alerts-section"><h2>Alerts</h2><div id="alerts"></div></section>
  <section class="wide"><h2>Runs</h2><div class="counts" id="counts"></div><div id="runs"></div></section>
  ${qualitySections}
  <section><h2>Ingestion per source</h2><div id="ingestion"></div></section>
  <section><h2>Queues</h2><div id="queues"></div></section>
  <section class="wide" id="charts-section"><details><summary><h2 style="display:inline">Notebook charts (PNG)</h2> <span style="color:var(--dim)">what the visual insights notebook's display() shows on Databricks; the dashboard above is the primary view</span></summary><div id="charts" class="charts"></div></details></section>
  ${o.optimize ? optimizePanelSection : ''}
  <section class="wide" id="errors-section" hidden><h2>Data errors</h2><div id="errors"></div></section>
</main>
${o.lakeview}
<script>
${qualityPanelScript}
(function () {
  var esc = function (v) { return String(v == null ? '' : v).replace(/[&<>"']/g, function (c) { return { '&':'&amp;', '<':'&lt;', '>':'&gt;', '"':'&quot;', "'":'&#39;' }[c]; }); };
  var dur = function (ms) { if (ms == null) return ''; var s = Math.round(ms / 1000); return s < 60 ? s + ' s' : Math.floor(s / 60) + ' min ' + (s % 60) + ' s'; };
  var time = function (iso) { return iso ? esc(iso.replace('T', ' ').replace(/\\.\\d+Z$/, 'Z')) : ''; };
  var empty = function (t) { return '<div class="empty">' + esc(t) + '</div>'; };
  var table = function (head, rows) { return '<table><thead><tr>' + head.map(function (h) { return '<th>' + esc(h) + '</th>'; }).join('') + '</tr></thead><tbody>' + rows.join('') + '</tbody></table>'; };

  function render(s) {
    document.getElementById('generated').textContent = 'updated ' + s.generatedAt.replace('T', ' ').slice(0, 19) + 'Z';
    var ins = s.insights;
    document.getElementById('headlines').innerHTML = ins && ins.headlines.length ? '<div class="headlines">' + ins.headlines.map(function (h) {
      return '<div class="headline" data-key="' + esc(h.key) + '"><div class="label">' + esc(h.label) + '</div><div class="value">' + esc(h.value) + '</div><div class="detail">' + esc(h.detail) + ' <span class="mono">gold.' + esc(h.table) + '</span></div></div>';
    }).join('') + '</div><div class="mono" style="color:var(--dim);margin-top:6px">computed ' + time(ins.generatedAt) + ' by the visual insights job</div>' : empty('No insights yet: the visual insights job runs once the pipelines have updated the gold tables.');
    document.getElementById('alerts').innerHTML = s.alerts.length ? table(['Severity', 'Alert', 'Scope', 'Detail'], s.alerts.map(function (a) {
      return '<tr class="alert" data-rule="' + esc(a.rule) + '"><td class="sev-' + a.severity + '">sev ' + a.severity + '</td><td>' + esc(a.displayName) + '</td><td class="mono">' +
        esc(Object.keys(a.dimensions).map(function (k) { return k + '=' + a.dimensions[k]; }).join(' ')) + '</td><td>' + esc(a.message) + '</td></tr>';
    })) : empty('No alerts firing.');
    document.getElementById('counts').innerHTML = Object.keys(s.counts).sort().map(function (k) { return '<span>' + esc(k) + ' <b>' + s.counts[k] + '</b></span>'; }).join('');
    document.getElementById('runs').innerHTML = s.runs.length ? table(['Run', 'Dataset / job', 'State', 'Inputs', 'Requested', 'Duration', 'Databricks'], s.runs.map(function (r) {
      return '<tr class="run" data-run-id="' + esc(r.runId) + '" data-state="' + esc(r.state) + '"><td class="mono">' + esc(r.runId) + '</td><td>' + esc(r.dataset) + '<br><span class="mono" style="color:var(--dim)">' + esc(r.jobName) + '</span></td>' +
        '<td><span class="pill s-' + esc(r.state) + '">' + esc(r.state) + '</span>' + (r.resultState ? '<br><span class="mono">' + esc(r.resultState) + '</span>' : '') + (r.error ? '<br><span class="err">' + esc(r.error) + '</span>' : '') + '</td>' +
        '<td class="mono inputs">' + (r.inputs.length ? '<details><summary>' + r.inputs.length + ' input' + (r.inputs.length > 1 ? 's' : '') + '</summary>' + r.inputs.map(function (i) { return '<div>' + esc(i) + '</div>'; }).join('') + '</details>' : '<span class="empty">all</span>') + '</td>' +
        '<td class="mono">' + time(r.requestedAt) + '</td><td>' + dur(r.durationMs) + '</td>' +
        '<td>' + (r.databricksRunUrl ? '<a href="' + esc(!boot && r.databricksRunPath ? r.databricksRunPath : r.databricksRunUrl) + '" target="_blank" rel="noopener">run ' + esc(r.databricksRunId != null ? r.databricksRunId : '') + '</a>' : '') + '</td></tr>';
    })) : empty('No runs yet.');
    document.getElementById('ingestion').innerHTML = table(['Source', 'Watermark (next day)', 'Last success', 'Records', 'Freshness'], s.ingestion.map(function (v) {
      return '<tr class="source" data-source="' + esc(v.source) + '"><td>' + esc(v.source) + '</td><td class="mono">' + esc(v.nextStart || '—') + '</td><td class="mono">' + (time(v.lastSuccessAt) || '—') + '</td><td>' + esc(v.lastRecords != null ? v.lastRecords : '') + '</td><td>' + (v.freshnessMinutes != null ? v.freshnessMinutes + ' min ago' : '<span class="empty">never</span>') + (v.watermarkLagDays != null ? '<br><span class="' + (v.watermarkLagDays > 30 ? 'sev-2' : 'mono') + '">watermark ' + (v.watermarkLagDays === 0 ? 'today' : v.watermarkLagDays + ' d behind') + '</span>' : '') + '</td></tr>';
    }));
    document.getElementById('queues').innerHTML = s.queues.length ? table(['Entity', 'Active', 'Dead letters', 'Last dead-letter reason'], s.queues.map(function (q) {
      return '<tr><td class="mono">' + esc(q.entity) + '</td><td>' + esc(q.active != null ? q.active : '') + '</td><td class="' + (q.deadLetters ? 'sev-1' : '') + '">' + q.deadLetters + (q.capped ? '+' : '') + '</td><td>' + esc(q.samples[0] ? (q.samples[0].reason || '') : '') + '</td></tr>';
    })) : empty('No Service Bus connected.');
    document.getElementById('charts').innerHTML = s.charts.length ? s.charts.map(function (c) { return '<figure><img src="' + esc(c.url) + (c.url.indexOf('data:') === 0 ? '' : '?t=' + encodeURIComponent(c.updatedAt)) + '" alt="' + esc(c.name) + '"><figcaption>' + esc(c.name) + '</figcaption></figure>'; }).join('') : empty('No charts yet (visual insights job writes PNGs to .orbiter/charts).');
    document.dispatchEvent(new CustomEvent('orbiter:snapshot', { detail: Object.assign({ __live: !boot }, s) }));
    if (window.orbiterLakeview) window.orbiterLakeview.update(s);
    var errs = Object.keys(s.errors);
    document.getElementById('errors-section').hidden = errs.length === 0;
    document.getElementById('errors').innerHTML = errs.map(function (k) { return '<div class="err">' + esc(k) + ': ' + esc(s.errors[k]) + '</div>'; }).join('');
  }

  var live = document.getElementById('live');
  var boot = ${o.boot};
  if (boot) { render(boot); live.className = 'off'; live.textContent = 'static snapshot'; return; }
  var es = new EventSource('/api/stream');
  es.addEventListener('snapshot', function (e) { render(JSON.parse(e.data)); live.className = 'on'; live.textContent = 'live'; });
  es.onerror = function () { live.className = 'off'; live.textContent = 'reconnecting…'; };
})();
</script>
${o.optimize ? `<script>${optimizePanelScript}</script>` : ''}
</body>
</html>
`;

export const dashboardHtml = (): string =>
  page({ boot: 'null', optimize: true, title: 'Orbiter — local monitoring', lakeview: liveLakeviewScripts() });

/**
 * The dashboard as one self-contained file: the snapshot is embedded (with `<` escaped, so no data can close the
 * script) and chart URLs must already be data URIs. No cost panel: it needs the live Jobs API.
 */
export function staticDashboardHtml(snapshot: DashboardSnapshot, lakeview: { view?: LakeviewView; error?: string } = {}): string {
  const boot = JSON.stringify(snapshot)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
  return page({ boot, optimize: false, title: 'Orbiter — insights and runs', lakeview: staticLakeviewScripts(lakeview) });
}
