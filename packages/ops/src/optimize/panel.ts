/** The dashboard's cost and sizing panel: its section and script, fed by /api/optimize (a Jobs API read, so it is
 * fetched on load and every minute rather than pushed with each snapshot). */
export const optimizePanelSection = `<section class="wide" id="optimize-section"><h2>Cost and sizing (estimates from config/cost-rates.json, not measured spend)</h2><div id="optimize"><div class="empty">loading…</div></div></section>`;

export const optimizePanelScript = `
(function () {
  var esc = function (v) { return String(v == null ? '' : v).replace(/[&<>"']/g, function (c) { return { '&':'&amp;', '<':'&lt;', '>':'&gt;', '"':'&quot;', "'":'&#39;' }[c]; }); };
  var money = function (r) { var f = function (x) { return x < 0.01 ? x.toFixed(4) : x.toFixed(2); }; return r.low === r.high ? f(r.low) : f(r.low) + '–' + f(r.high); };
  var secs = function (ms) { return (ms / 1000).toFixed(1) + ' s'; };
  function render(r) {
    var el = document.getElementById('optimize');
    if (r.error) { el.innerHTML = '<div class="err">' + esc(r.error) + '</div>'; return; }
    var rows = r.jobs.map(function (j) {
      return '<tr class="opt-job" data-job="' + esc(j.jobName) + '"><td class="mono">' + esc(j.jobName) + '</td><td>' + j.succeeded + '/' + j.runs + '</td><td>' + j.runsPerDay + '</td><td>' + secs(j.durationP50Ms) + '</td><td>' + secs(j.queueP50Ms) + '</td><td>' + esc(j.rows != null ? j.rows : '—') + '</td><td>' + esc(j.rowsPerSecond != null ? j.rowsPerSecond : '—') + '</td><td>' + esc(money(j.costPerRun)) + ' ' + esc(r.currency) + '</td><td>' + esc(money(j.costPerDay)) + '</td></tr>';
    });
    var recs = r.recommendations.map(function (x) { return '<li class="opt-rec" data-kind="' + esc(x.kind) + '"><b>' + esc(x.jobName) + '</b>: ' + esc(x.message) + '<br><span class="mono" style="color:var(--dim)">' + esc(x.evidence.join(' · ')) + '</span></li>'; });
    el.innerHTML = (rows.length ? '<table><thead><tr><th>Job</th><th>OK/runs</th><th>Runs/day</th><th>P50</th><th>Queue p50</th><th>Rows</th><th>Rows/s</th><th>Est./run</th><th>Est./day</th></tr></thead><tbody>' + rows.join('') + '</tbody></table>' : '<div class="empty">No completed runs since ' + esc(r.since) + '.</div>') +
      (recs.length ? '<ul>' + recs.join('') + '</ul>' : '') + '<div class="err">' + esc(r.notes[0] || '') + '</div>';
  }
  function load() { fetch('/api/optimize').then(function (res) { return res.json(); }).then(render).catch(function (e) { render({ error: String(e) }); }); }
  load();
  setInterval(load, 60000);
})();
`;
