/**
 * The data-quality panel (rows per layer, quarantined rows and top reasons, watermark lag per source) and the tasks
 * of recent runs (state, duration, rows written and quarantined, log links). Client-side script, fed the same snapshot
 * as the rest of the page through the `orbiter:snapshot` event; everything shown is escaped.
 */
export const qualitySections = `<section class="wide" id="quality-section"><h2>Data quality per source</h2><div id="quality"></div></section>
  <section class="wide" id="tasks-section"><h2>Tasks of recent runs</h2><div id="tasks"></div></section>`;

export const qualityPanelScript = `(function () {
  var esc = function (v) { return String(v == null ? '' : v).replace(/[&<>"']/g, function (c) { return { '&':'&amp;', '<':'&lt;', '>':'&gt;', '"':'&quot;', "'":'&#39;' }[c]; }); };
  var num = function (n) { return n == null ? '' : Number(n).toLocaleString('en-US'); };
  var dur = function (ms) { if (ms == null) return ''; var s = Math.round(ms / 1000); return s < 60 ? s + ' s' : Math.floor(s / 60) + ' min ' + (s % 60) + ' s'; };
  var table = function (head, rows) { return '<table><thead><tr>' + head.map(function (h) { return '<th>' + esc(h) + '</th>'; }).join('') + '</tr></thead><tbody>' + rows.join('') + '</tbody></table>'; };
  var empty = function (t) { return '<div class="empty">' + esc(t) + '</div>'; };
  var lag = function (d) { return d == null ? '—' : d === 0 ? 'today' : d + ' d behind'; };
  // Live: the dashboard's stable path (redirects to the workspace running now); a static page keeps the recorded URL.
  var runLink = function (r, live, tail) {
    if (live && r.databricksRunPath) return r.databricksRunPath + (tail || '');
    if (!r.databricksRunUrl) return '';
    var m = /^(https?:\\/\\/[^/#?]+)/.exec(r.databricksRunUrl);
    var p = /#job\\/(\\d+)\\/run\\/(\\d+)/.exec(r.databricksRunUrl);
    return tail && m && p ? m[1] + '/jobs/' + p[1] + '/runs/' + p[2] + tail : r.databricksRunUrl;
  };
  document.addEventListener('orbiter:snapshot', function (e) {
    var s = e.detail, live = !!(e.detail && e.detail.__live);
    var q = s.quality;
    document.getElementById('quality').innerHTML = q && q.rows.length ? table(['Source', 'Bronze rows', 'Silver rows', 'Gold rows', 'Quarantined', 'Top reasons', 'Watermark', 'Watermark lag', 'Newest window in lake'], q.rows.map(function (r) {
      return '<tr class="quality" data-source="' + esc(r.source) + '"><td>' + esc(r.source) + '</td><td>' + num(r.bronze) + '</td><td>' + num(r.silver) + '</td><td>' + num(r.gold) + '</td>' +
        '<td class="' + (r.quarantined ? 'sev-2' : '') + '">' + num(r.quarantined) + '</td><td>' + r.topReasons.map(function (t) { return '<div><span class="mono">' + esc(t.entity) + '</span> ' + num(t.rows) + ' × ' + esc(t.reason) + '</div>'; }).join('') + '</td>' +
        '<td class="mono">' + esc(r.watermark || '—') + '</td><td class="' + (r.watermarkLagDays > 30 ? 'sev-2' : '') + '">' + esc(lag(r.watermarkLagDays)) + '</td><td class="mono">' + esc(r.newestWindowEnd || '—') + (r.lakeLagDays ? ' <span class="sev-2">(' + r.lakeLagDays + ' d before the watermark)</span>' : '') + '</td></tr>';
    })) + '<div class="mono" style="color:var(--dim);margin-top:6px">computed ' + esc(q.generatedAt) + ' by the visual insights job (gold.data_quality, gold.quarantine_reasons)</div>' : empty('No data-quality figures yet: the visual insights job computes them after the pipelines.');
    var rows = [];
    s.runs.filter(function (r) { return r.tasks && r.tasks.length; }).slice(0, 12).forEach(function (r) {
      r.tasks.forEach(function (t, i) {
        var log = runLink(r, live, '/tasks/' + encodeURIComponent(t.taskKey) + '/log');
        rows.push('<tr class="task" data-run-id="' + esc(r.runId) + '" data-task="' + esc(t.taskKey) + '"><td>' + (i === 0 ? esc(r.dataset) + '<br><span class="mono" style="color:var(--dim)">' + esc(r.runId) + '</span>' : '') + '</td>' +
          '<td class="mono">' + esc(t.taskKey) + (t.dependsOn.length ? ' <span style="color:var(--dim)">← ' + esc(t.dependsOn.join(', ')) + '</span>' : '') + '</td>' +
          '<td><span class="pill s-' + (t.state === 'SUCCESS' ? 'succeeded' : /FAIL|ERROR|TIMEDOUT/.test(t.state) ? 'failed' : 'skipped') + '">' + esc(t.state) + '</span>' + (t.error ? '<br><span class="err">' + esc(t.error) + '</span>' : '') + '</td>' +
          '<td>' + dur(t.durationMs) + '</td><td>' + num(t.rowsWritten) + '</td><td>' + (t.quarantined ? num(t.quarantined) : '') + '</td>' +
          '<td>' + (log ? '<a href="' + esc(log) + '" target="_blank" rel="noopener">log</a>' : '') + '</td>' +
          '<td>' + (t.output ? '<details><summary>exit value</summary><pre class="mono" style="white-space:pre-wrap;max-width:520px">' + esc(t.output) + '</pre></details>' : '') + '</td></tr>');
      });
    });
    document.getElementById('tasks').innerHTML = rows.length ? table(['Run', 'Task', 'State', 'Duration', 'Rows written', 'Quarantined', 'Logs', 'Output'], rows) : empty('No finished runs with tasks yet.');
  });
})();`;
