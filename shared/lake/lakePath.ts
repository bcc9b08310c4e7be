import { z } from 'zod';
import { Containers } from '../names';

/**
 * Why a blob path is not a plain path inside its container, or undefined when it is. Run inputs name raw-zone blobs;
 * a `..` or `.` segment, an empty segment, a backslash or a control character could make a consumer (Spark, a local
 * file system) resolve it into another zone, so such names are refused wherever a path crosses a boundary.
 */
export function lakePathProblem(path: string): string | undefined {
  if (path.length === 0 || path.length > 1024) return 'must be 1 to 1024 characters';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(path)) return 'must not contain control characters or backslashes';
  if (path.startsWith('/')) return 'must be relative to the container (no leading /)';
  const segments = path.split('/');
  if (segments.some((s) => s === '')) return 'must not contain empty segments (//) or end with /';
  if (segments.some((s) => s === '.' || s === '..')) return 'must not contain . or .. segments';
  return undefined;
}

/** A path inside a lake container, normalised already (see lakePathProblem). */
export const lakePath = z.string().superRefine((p, ctx) => {
  const problem = lakePathProblem(p);
  if (problem) ctx.addIssue({ code: 'custom', message: `lake path ${problem}` });
});

/** Runs read only the raw zone. */
export const rawContainer = z.string().refine((c): boolean => c === Containers.raw, `inputs must be in the ${Containers.raw} container`);
