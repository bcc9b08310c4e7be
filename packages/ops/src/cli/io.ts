/** Where the CLI writes: results to `out` (stdout, scriptable), progress and errors to `err` (stderr). */
export interface CliIO {
  out(line: string): void;
  err(line: string): void;
  env: Record<string, string | undefined>;
  /** Working directory (local.settings.json is read from here). */
  cwd: string;
}

export const processIO = (): CliIO => ({
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
  env: process.env,
  cwd: process.cwd(),
});
