import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The browser-side libraries and the coastline data, read from installed npm packages (never fetched at run time):
 * vega, vega-lite and vega-embed UMD builds, and world-atlas's 1:110m land TopoJSON.
 */
export const VENDOR_SCRIPTS = {
  'vega.min.js': ['vega', 'build/vega.min.js'],
  'vega-lite.min.js': ['vega-lite', 'build/vega-lite.min.js'],
  'vega-embed.min.js': ['vega-embed', 'build/vega-embed.min.js'],
} as const;
export type VendorScript = keyof typeof VENDOR_SCRIPTS;
export const LAND_TOPOJSON: readonly [string, string] = ['world-atlas', 'land-110m.json'];

export class DashboardAssetError extends Error {
  readonly code = 'DashboardAssetMissing';
}

// The packages' `exports` maps hide their build files from require.resolve, so look in each node_modules on the path.
export function packageFile(pkg: string, rel: string): string {
  for (const dir of require.resolve.paths(pkg) ?? []) {
    const file = join(dir, pkg, rel);
    if (existsSync(file)) return file;
  }
  throw new DashboardAssetError(`${pkg}/${rel} not found: run npm ci (package ${pkg} is a dependency of @orbiter/ops)`);
}

const cache = new Map<string, string>();
const read = (pkg: string, rel: string): string => {
  const key = `${pkg}/${rel}`;
  if (!cache.has(key)) cache.set(key, readFileSync(packageFile(pkg, rel), 'utf8'));
  return cache.get(key)!;
};

export const vendorScript = (name: VendorScript): string => read(VENDOR_SCRIPTS[name][0], VENDOR_SCRIPTS[name][1]);
export const landTopojson = (): string => read(LAND_TOPOJSON[0], LAND_TOPOJSON[1]);

/** Text made safe inside an inline <script>: nothing in it can close the element or open a comment state. */
export const inlineScriptText = (js: string): string => js.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');

/** JSON made safe inside an inline <script>: `<` and the JS-only line separators escaped. */
export const inlineJson = (value: unknown): string =>
  JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
