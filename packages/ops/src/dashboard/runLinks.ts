/**
 * Links from the dashboard to Databricks runs that stay valid across restarts. The local emulator gets another port on
 * every start, so a run_page_url recorded by an earlier start points nowhere; the dashboard (fixed port) links
 * `/databricks/jobs/<job>/runs/<run>` instead and redirects it to the workspace running now.
 */

const RUN_URL = /(?:#job\/(\d{1,15})\/run\/(\d{1,15})|\/jobs\/(\d{1,15})\/runs\/(\d{1,15}))(?:[/?#]|$)/;

/** The dashboard's stable path of a run page URL (classic `#job/J/run/R` or `/jobs/J/runs/R`), else undefined. */
export function databricksRunPath(runPageUrl: string | undefined): string | undefined {
  const m = runPageUrl ? RUN_URL.exec(runPageUrl) : null;
  if (!m) return undefined;
  return `/databricks/jobs/${m[1] ?? m[3]}/runs/${m[2] ?? m[4]}`;
}

const STABLE = /^\/databricks\/jobs\/(\d{1,15})\/runs\/(\d{1,15})(\/tasks\/[A-Za-z0-9_.%-]{1,300}\/log)?$/;

/**
 * Where a stable path leads now: the same run page on the current workspace (`workspaceUrl`), or undefined when
 * the path is not one of ours. Only digits and a task key of safe characters are carried over.
 */
export function databricksRedirect(pathname: string, workspaceUrl: string): string | undefined {
  const m = STABLE.exec(pathname);
  if (!m) return undefined;
  return `${workspaceUrl.replace(/\/+$/, '')}/jobs/${m[1]}/runs/${m[2]}${m[3] ?? ''}`;
}
