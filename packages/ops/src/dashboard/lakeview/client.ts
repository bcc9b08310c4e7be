import { LAND_DATA } from './translate';

/** Styles of the widget grid (the page's dark palette; one grid row unit is 56 px, as Lakeview's canvas rows). */
export const lakeviewStyles = `
  .lv-page h3 { font-size:13px; color:var(--dim); font-weight:500; margin:8px 0; }
  .lv-grid { display:grid; gap:10px; grid-auto-rows:56px; }
  .lv-widget { border:1px solid var(--line); border-radius:6px; padding:8px 10px; display:flex; flex-direction:column; min-width:0; min-height:0; overflow:hidden; }
  .lv-widget .lv-title { font-size:13px; font-weight:600; margin-bottom:4px; white-space:nowrap; overflow:hidden; text-overflow:ellipsis; }
  .lv-body { flex:1; min-height:0; overflow:auto; position:relative; }
  .lv-chart { width:100%; height:100%; }
  .lv-counter { font-size:34px; font-weight:700; line-height:1.1; }
  .lv-counter-label { color:var(--dim); font-size:12px; }
  .lv-table td.num { text-align:right; font-variant-numeric: tabular-nums; }
  .lv-note { color:var(--dim); font-size:11px; margin-top:4px; }
  .lv-unsupported, .lv-error { color:var(--warn); font-size:12px; border:1px dashed var(--warn); border-radius:4px; padding:8px; }
`;

/**
 * Draws a LakeviewView into #lakeview: charts through vega-embed (SVG), tables, counters and text as escaped HTML.
 * Every data string goes through esc() or into SVG text nodes; nothing from a dataset becomes markup or code.
 * Static: `window.orbiterLakeview.pin(view, land)`; live, `update(snapshot)` refetches when the data changed.
 */
export const lakeviewScript = `
(function () {
  var esc = function (v) { return String(v == null ? '' : v).replace(/[&<>"']/g, function (c) { return { '&':'&amp;', '<':'&lt;', '>':'&gt;', '"':'&quot;', "'":'&#39;' }[c]; }); };
  var LAND = ${JSON.stringify(LAND_DATA)};
  var views = [];
  function withLand(spec, land) {
    if (!spec.layer) return spec;
    var copy = JSON.parse(JSON.stringify(spec));
    copy.layer.forEach(function (l) { if (l.data && l.data.name === LAND) l.data = { values: land, format: { type: 'topojson', feature: 'land' } }; });
    return copy;
  }
  function body(w) {
    var v = w.view;
    switch (v.kind) {
      case 'chart': return '<div class="lv-chart"></div>';
      case 'table':
        return '<table class="lv-table"><thead><tr>' + v.columns.map(function (c) { return '<th>' + esc(c.title) + '</th>'; }).join('') + '</tr></thead><tbody>' +
          v.rows.map(function (r) { return '<tr>' + r.map(function (c, i) { return '<td' + (v.columns[i].numeric ? ' class="num"' : '') + '>' + esc(c) + '</td>'; }).join('') + '</tr>'; }).join('') +
          '</tbody></table>' + (v.total > v.rows.length || v.truncated ? '<div class="lv-note">' + esc(v.rows.length) + ' of ' + esc(v.total) + (v.truncated ? '+' : '') + ' rows shown</div>' : '');
      case 'counter': return '<div class="lv-counter">' + esc(v.value) + '</div><div class="lv-counter-label">' + esc(v.label) + '</div>';
      case 'text': return v.lines.map(function (l) { var h = /^(#+)\\s*(.*)$/.exec(l); return h ? '<div class="lv-title">' + esc(h[2]) + '</div>' : '<div>' + esc(l) + '</div>'; }).join('');
      case 'empty': return '<div class="empty">' + esc(v.message) + '</div>';
      case 'unsupported': return '<div class="lv-unsupported">unsupported widget type ' + esc(v.widgetType) + '</div>';
      default: return '<div class="lv-error">' + esc(v.message) + '</div>';
    }
  }
  function render(view, land) {
    var root = document.getElementById('lakeview');
    if (!root) return;
    views.forEach(function (v) { v.finalize(); });
    views = [];
    if (!view) { root.innerHTML = '<div class="empty">No dashboard definition (.lvdash.json) in the bundle.</div>'; return; }
    root.innerHTML = view.pages.map(function (p) {
      return '<div class="lv-page" data-page="' + esc(p.name) + '">' + (view.pages.length > 1 ? '<h3>' + esc(p.title) + '</h3>' : '') +
        '<div class="lv-grid" style="grid-template-columns:repeat(' + Number(view.columns) + ',minmax(0,1fr))">' + p.widgets.map(function (w) {
          var pos = w.position;
          return '<div class="lv-widget" data-widget="' + esc(w.name) + '" data-type="' + esc(w.widgetType) + '" data-kind="' + esc(w.view.kind) + '" data-state="' + (w.view.kind === 'chart' ? 'drawing' : 'done') + '"' +
            ' style="grid-column:' + (Number(pos.x) + 1) + ' / span ' + Number(pos.width) + ';grid-row:' + (Number(pos.y) + 1) + ' / span ' + Number(pos.height) + '">' +
            (w.title ? '<div class="lv-title" title="' + esc(w.title) + '">' + esc(w.title) + '</div>' : '') + '<div class="lv-body">' + body(w) + '</div></div>';
        }).join('') + '</div></div>';
    }).join('') + (view.datasetsGeneratedAt ? '<div class="lv-note mono">datasets computed ' + esc(view.datasetsGeneratedAt) + ' by the visual insights job</div>' : '');
    view.pages.forEach(function (p) {
      p.widgets.forEach(function (w) {
        if (w.view.kind !== 'chart') return;
        var box = root.querySelector('.lv-widget[data-widget="' + CSS.escape(w.name) + '"]');
        var target = box.querySelector('.lv-chart');
        if (typeof vegaEmbed !== 'function') { box.dataset.state = 'error'; target.innerHTML = '<div class="lv-error">chart library not loaded</div>'; return; }
        vegaEmbed(target, withLand(w.view.spec, land), { actions: false, renderer: 'svg', theme: 'dark', tooltip: { theme: 'dark' } }).then(function (r) {
          views.push(r);
          box.dataset.state = 'done';
        }, function (err) {
          box.dataset.state = 'error';
          target.innerHTML = '<div class="lv-error">' + esc(err && err.message ? err.message : err) + '</div>';
        });
      });
    });
  }
  var version = null, landCache = null, pinned = false;
  function update(snapshot) {
    if (!snapshot || pinned) return;
    if (snapshot.lakeviewVersion === undefined) { if (version !== '') { version = ''; render(null, null); } return; }
    if (snapshot.lakeviewVersion === version) return;
    version = snapshot.lakeviewVersion;
    fetch('/api/lakeview').then(function (r) { return r.json(); }).then(function (body) {
      if (body.error) { document.getElementById('lakeview').innerHTML = '<div class="lv-error">' + esc(body.error) + '</div>'; return; }
      if (!body.view || !body.view.hasMaps || landCache) return render(body.view, landCache);
      return fetch('/lakeview/land.json').then(function (r) { return r.json(); }).then(function (land) { landCache = land; render(body.view, land); });
    }).catch(function (err) { version = null; document.getElementById('lakeview').innerHTML = '<div class="lv-error">' + esc(err.message) + '</div>'; });
  }
  // The static page pins the view it carries: its snapshot has no version to follow and no server to ask.
  function pin(view, land) { pinned = true; render(view, land); }
  window.orbiterLakeview = { render: render, update: update, pin: pin };
})();
`;
