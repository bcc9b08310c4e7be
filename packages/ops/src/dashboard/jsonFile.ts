import { existsSync, readFileSync } from 'node:fs';
import type { z } from 'zod';

/**
 * A JSON file the insights job writes, checked against its schema: undefined when it does not exist yet; a file that
 * is not JSON or does not match is an error built by `fail`, naming the file and what is wrong.
 */
export function readJsonFile<S extends z.ZodType>(file: string, schema: S, fail: (message: string) => Error): z.output<S> | undefined {
  if (!existsSync(file)) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw fail(`${file} is not JSON: ${(err as Error).message}`);
  }
  const parsed = schema.safeParse(doc);
  if (!parsed.success) throw fail(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}
