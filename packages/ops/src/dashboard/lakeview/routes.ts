import type { ServerResponse } from 'node:http';
import { landTopojson, vendorScript, VENDOR_SCRIPTS, type VendorScript } from './assets';
import { buildLakeview, type LakeviewSource } from './model';

const send = (res: ServerResponse, status: number, type: string, body: string): void => {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
};

/**
 * The live dashboard's Lakeview routes (after the server's Host/Origin checks): GET /api/lakeview (the rendered view,
 * or `{error}` when the definition is missing or invalid), /lakeview/vendor/<lib>.js and /lakeview/land.json from
 * node_modules. Returns false for any other path.
 */
export function handleLakeviewRequest(path: string, res: ServerResponse, src: LakeviewSource | undefined): boolean {
  if (path === '/api/lakeview') {
    let body: unknown;
    try {
      body = src ? { view: buildLakeview(src) } : { error: 'No dashboard definition (.lvdash.json) found in the bundle, or no charts folder.' };
    } catch (err) {
      body = { error: err instanceof Error ? err.message : String(err) };
    }
    send(res, 200, 'application/json; charset=utf-8', JSON.stringify(body));
    return true;
  }
  if (path === '/lakeview/land.json') {
    send(res, 200, 'application/json; charset=utf-8', landTopojson());
    return true;
  }
  const vendor = /^\/lakeview\/vendor\/([\w.-]+)$/.exec(path)?.[1];
  if (vendor && Object.hasOwn(VENDOR_SCRIPTS, vendor)) {
    send(res, 200, 'text/javascript; charset=utf-8', vendorScript(vendor as VendorScript));
    return true;
  }
  return false;
}
