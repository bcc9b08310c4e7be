import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Characters of a task's stdout/stderr runs/get-output returns: the tail, where a failure is. */
export const LOG_CAP = 1024 * 1024;

/** Where a notebook task's stdout/stderr is (the runners write <workDir>/runs/<run_id>/<task run_id>-<task_key>.log). */
export const taskLogPath = (workDir: string, parentRunId: number, taskRunId: number, taskKey: string): string =>
  join(workDir, 'runs', String(parentRunId), `${taskRunId}-${taskKey}.log`);

/**
 * A task's log for runs/get-output `logs` (Databricks fills it for tasks that write to standard streams; locally
 * every notebook task's stdout/stderr is there, so Orbiter reads task logs the same way on both). Undefined before the
 * task started writing.
 */
export function readTaskLog(path: string, cap = LOG_CAP): { logs: string; truncated: boolean } | undefined {
  if (!existsSync(path)) return undefined;
  const size = statSync(path).size;
  const start = Math.max(0, size - cap);
  const buf = Buffer.alloc(size - start);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buf, 0, buf.length, start);
  } finally {
    closeSync(fd);
  }
  return { logs: buf.toString('utf8'), truncated: start > 0 };
}
