// Summarises repeated fault-matrix runs (scripts/test-faults.sh --repeat): per scenario, repetitions passed and
// failed (jest's JSON report), and from the ledger's figures ($FAULTS_RESULTS, the last check of each scenario in
// each repetition) the files landed, lost (no successful run, no dead letter, nothing left queued that could still
// run them), unsettled (unaccounted for while messages were still queued at the deadline) and duplicated (more than
// one successful run).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir, countArg] = process.argv.slice(2);
const repetitions = Number(countArg);
const scenarios = new Map();
const row = (name) => {
  if (!scenarios.has(name)) scenarios.set(name, { passed: 0, failed: 0, files: 0, lost: 0, unsettled: 0, duplicated: 0 });
  return scenarios.get(name);
};
for (let i = 1; i <= repetitions; i++) {
  const report = join(dir, `jest-${i}.json`);
  if (existsSync(report)) {
    for (const file of JSON.parse(readFileSync(report, 'utf8')).testResults ?? [])
      for (const t of file.assertionResults ?? []) {
        if (t.status === 'passed') row(t.fullName).passed++;
        else if (t.status === 'failed') row(t.fullName).failed++;
      }
  }
  const figures = join(dir, `figures-${i}.jsonl`);
  if (!existsSync(figures)) continue;
  const last = new Map();
  for (const line of readFileSync(figures, 'utf8').split('\n')) if (line.trim()) last.set(JSON.parse(line).scenario, JSON.parse(line));
  for (const [name, f] of last) {
    const r = row(name);
    r.files += f.files;
    r.lost += f.lost;
    r.unsettled += f.unsettled ?? 0;
    r.duplicated += f.duplicated;
  }
}
const rows = [...scenarios].sort(([a], [b]) => a.localeCompare(b));
const total = rows.reduce(
  (t, [, r]) => ({ files: t.files + r.files, lost: t.lost + r.lost, unsettled: t.unsettled + r.unsettled, duplicated: t.duplicated + r.duplicated }),
  { files: 0, lost: 0, unsettled: 0, duplicated: 0 },
);
console.log(`\nfault matrix x${repetitions}: per scenario, runs passed/failed, files landed, lost, unsettled, duplicated (all repetitions)`);
console.log(['passed', 'failed', 'files', 'lost', 'unsettl', 'dup', 'scenario'].join('\t'));
for (const [name, r] of rows) console.log([r.passed, r.failed, r.files, r.lost, r.unsettled, r.duplicated, name].join('\t'));
console.log(['', '', total.files, total.lost, total.unsettled, total.duplicated, 'total'].join('\t'));
