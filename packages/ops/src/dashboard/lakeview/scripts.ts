import { inlineJson, inlineScriptText, landTopojson, vendorScript, VENDOR_SCRIPTS, type VendorScript } from './assets';
import { lakeviewScript } from './client';
import type { LakeviewView } from './model';

const vendorNames = Object.keys(VENDOR_SCRIPTS) as VendorScript[];

/** The live page loads the libraries from this server (served from node_modules) and fetches the view on change. */
export const liveLakeviewScripts = (): string =>
  vendorNames.map((n) => `<script src="/lakeview/vendor/${n}"></script>`).join('\n') + `\n<script>${lakeviewScript}</script>`;

/**
 * The static page carries everything inline — libraries, coastline TopoJSON (only when a map needs it), the view —
 * so it opens from file:// with no network.
 */
export function staticLakeviewScripts(o: { view?: LakeviewView; error?: string }): string {
  const libs = vendorNames.map((n) => `<script>${inlineScriptText(vendorScript(n))}</script>`).join('\n');
  const land = o.view?.hasMaps ? landTopojson().replace(/</g, '\\u003c') : 'null';
  const boot = o.error
    ? `window.orbiterLakeview.pin(null, null); document.getElementById('lakeview').innerHTML = '<div class="lv-error"></div>'; document.querySelector('#lakeview .lv-error').textContent = ${inlineJson(o.error)};`
    : `window.orbiterLakeview.pin(${o.view ? inlineJson(o.view) : 'null'}, ${land});`;
  return `${libs}\n<script>${lakeviewScript}</script>\n<script>${boot}</script>`;
}
