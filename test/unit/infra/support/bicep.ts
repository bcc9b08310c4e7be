import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from './bundle';

/**
 * Just enough Bicep reading for consistency checks, since the Bicep compiler cannot run in Orbiter's CI:
 * comments stripped, balanced blocks, object keys, params, modules, outputs. It reads the conventions this repo's
 * Bicep follows (one declaration per line, multi-line objects); `az bicep build` in the user workflow is the real check.
 */
export const INFRA_DIR = join(REPO_ROOT, 'infra');

export function readBicep(relPath: string): string {
  return stripComments(readFileSync(join(INFRA_DIR, relPath), 'utf8'));
}

/** Removes // and /* *\/ comments outside '...' strings (Bicep strings are single-quoted, '' escapes nothing: \' does). */
export function stripComments(src: string): string {
  let out = '';
  let i = 0;
  let inString = false;
  while (i < src.length) {
    const c = src[i]!;
    if (inString) {
      out += c;
      if (c === '\\') {
        out += src[i + 1] ?? '';
        i += 2;
        continue;
      }
      if (c === "'") inString = false;
      i++;
      continue;
    }
    if (c === "'") {
      inString = true;
      out += c;
      i++;
    } else if (src.startsWith('//', i)) {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (src.startsWith('/*', i)) {
      const end = src.indexOf('*/', i + 2);
      i = end === -1 ? src.length : end + 2;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** The text between the `{` (or `[`) at or after `from` and its matching closer, exclusive. */
export function balancedBlock(text: string, from: number, open = '{', close = '}'): { body: string; end: number } {
  const start = text.indexOf(open, from);
  if (start === -1) throw new Error(`no ${open} after offset ${from}`);
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === '\\') i++;
      else if (c === "'") inString = false;
      continue;
    }
    if (c === "'") inString = true;
    else if (c === open) depth++;
    else if (c === close && --depth === 0) return { body: text.slice(start + 1, i), end: i };
  }
  throw new Error(`unbalanced ${open} from offset ${start}`);
}

/** Top-level `key: value` entries of an object body (values as raw text, trimmed). */
export function objectEntries(body: string): Map<string, string> {
  const entries = new Map<string, string>();
  const lines = splitTopLevel(body);
  for (const line of lines) {
    const m = /^\s*('(?:[^'\\]|\\.)*'|[A-Za-z_][A-Za-z0-9_]*)\s*:\s*([\s\S]*)$/.exec(line);
    if (!m) continue;
    const key = m[1]!.startsWith("'") ? m[1]!.slice(1, -1) : m[1]!;
    entries.set(key, m[2]!.trim());
  }
  return entries;
}

/** Splits a block body into its top-level statements (newline-separated outside brackets and strings). */
function splitTopLevel(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let inString = false;
  let current = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (inString) {
      current += c;
      if (c === '\\') current += body[++i] ?? '';
      else if (c === "'") inString = false;
      continue;
    }
    if (c === "'") inString = true;
    if ('{[('.includes(c)) depth++;
    if ('}])'.includes(c)) depth--;
    if (c === '\n' && depth === 0) {
      if (current.trim()) parts.push(current);
      current = '';
    } else current += c;
  }
  if (current.trim()) parts.push(current);
  return parts;
}

export interface BicepParam {
  name: string;
  type: string;
  hasDefault: boolean;
  defaultText?: string;
  secure: boolean;
}

export function params(text: string): BicepParam[] {
  const out: BicepParam[] = [];
  const re = /^param\s+([A-Za-z_][A-Za-z0-9_]*)\s+([A-Za-z]+)(\s*=\s*(.+))?$/gm;
  for (const m of text.matchAll(re)) {
    const before = text.slice(Math.max(0, m.index - 200), m.index);
    const secure = /@secure\(\)\s*(@[^\n]*\n\s*)*$/.test(before);
    out.push({ name: m[1]!, type: m[2]!, hasDefault: m[3] !== undefined, defaultText: m[4]?.trim(), secure });
  }
  return out;
}

export interface ModuleCall {
  symbol: string;
  path: string;
  /** Keys passed under params: { ... }. */
  params: Map<string, string>;
  conditional: boolean;
}

export function moduleCalls(text: string): ModuleCall[] {
  const out: ModuleCall[] = [];
  // A plain module, or a module loop (`= [ for x in xs: if (c) {`).
  const re = /^module\s+([A-Za-z_][A-Za-z0-9_]*)\s+'([^']+)'\s*=\s*(?:\[\s*for\s+[^:\n]+:\s*)?(if\s*\([^\n]*\)\s*)?\{/gm;
  for (const m of text.matchAll(re)) {
    const { body } = balancedBlock(text, m.index + m[0].length - 1);
    const entries = objectEntries(body);
    const paramsText = entries.get('params');
    out.push({
      symbol: m[1]!,
      path: m[2]!,
      params: paramsText ? objectEntries(balancedBlock(paramsText, 0).body) : new Map(),
      conditional: m[3] !== undefined,
    });
  }
  return out;
}

export function outputs(text: string): string[] {
  return [...text.matchAll(/^output\s+([A-Za-z_][A-Za-z0-9_]*)\s/gm)].map((m) => m[1]!);
}

export function loadCalls(text: string): { fn: string; path: string }[] {
  return [...text.matchAll(/\b(loadJsonContent|loadTextContent|loadYamlContent|loadFileAsBase64)\('([^']+)'/g)].map((m) => ({
    fn: m[1]!,
    path: m[2]!,
  }));
}

/** `var name = <value>`: the value's text (a balanced block for objects and arrays). */
export function varText(text: string, name: string): string {
  const m = new RegExp(`^var\\s+${name}\\s*=\\s*`, 'm').exec(text);
  if (!m) throw new Error(`no var ${name}`);
  const at = m.index + m[0].length;
  const first = text[at];
  if (first === '{' || first === '[') {
    const { body } = balancedBlock(text, at, first, first === '{' ? '}' : ']');
    return `${first}${body}${first === '{' ? '}' : ']'}`;
  }
  return text.slice(at, text.indexOf('\n', at)).trim();
}

/** Items of a Bicep array of string literals, e.g. ['raw', 'bronze'] or one per line. */
export function stringArray(value: string): string[] {
  if (!value.startsWith('[')) throw new Error(`not an array: ${value}`);
  return [...value.matchAll(/'((?:[^'\\]|\\.)*)'/g)].map((m) => m[1]!);
}

/** A single-quoted literal without interpolation, or undefined for anything else. */
export function stringLiteral(value: string): string | undefined {
  const m = /^'((?:[^'\\$]|\\.|\$(?!\{))*)'$/.exec(value.trim());
  return m ? m[1] : undefined;
}

export function resolveModulePath(fromFile: string, modulePath: string): string {
  return join(dirname(join(INFRA_DIR, fromFile)), modulePath);
}
