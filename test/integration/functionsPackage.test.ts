import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

// What Azure receives: scripts/pack-functions.sh stages the app the way azd deploys it (azure.yaml).
const repoRoot = resolve(__dirname, '..', '..');
// Tools of packages/, tests and bench: never in the Function App.
const toolOnly = ['commander', 'playwright-core', 'axios-retry', 'azurite', 'jest', 'typescript', 'fast-check'];
// Also used by the Azure SDKs the app needs (@azure/service-bus → rhea, long; OpenTelemetry → yaml): present only
// as their transitive dependencies, never as the app's own.
const transitiveOnly: Record<string, RegExp> = {
  rhea: /^(rhea-promise|@azure\/core-amqp)$/,
  long: /^(@azure\/service-bus|@grpc\/proto-loader|protobufjs)$/,
  yaml: /^@opentelemetry\//,
};

function installedPackages(nodeModules: string): Map<string, { dependencies?: Record<string, string> }> {
  const out = new Map<string, { dependencies?: Record<string, string> }>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      if (name.startsWith('.')) continue;
      if (name.startsWith('@')) {
        for (const sub of readdirSync(join(dir, name))) add(join(dir, name, sub), `${name}/${sub}`);
      } else add(join(dir, name), name);
    }
  };
  const add = (dir: string, name: string): void => {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) out.set(name, JSON.parse(readFileSync(manifest, 'utf8')) as { dependencies?: Record<string, string> });
    if (existsSync(join(dir, 'node_modules'))) walk(join(dir, 'node_modules'));
  };
  walk(nodeModules);
  return out;
}

describe('the deployable Function App package', () => {
  let stage: string;
  beforeAll(() => {
    stage = join(mkdtempSync(join(tmpdir(), 'orbiter-pack-')), 'app');
    execFileSync('bash', [join(repoRoot, 'scripts', 'pack-functions.sh'), stage], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  }, 240_000);
  afterAll(() => rmSync(resolve(stage, '..'), { recursive: true, force: true }));

  it('declares none of the tools as production dependencies', () => {
    const manifest = JSON.parse(readFileSync(join(stage, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; workspaces?: unknown };
    expect(manifest.workspaces).toBeUndefined();
    for (const name of [...toolOnly, ...Object.keys(transitiveOnly)]) expect(Object.keys(manifest.dependencies)).not.toContain(name);
  });

  it('ships no tool, and the SDKs’ own dependencies only under the SDKs', () => {
    const installed = installedPackages(join(stage, 'node_modules'));
    for (const name of toolOnly) expect(installed.has(name)).toBe(false);
    for (const [name, allowed] of Object.entries(transitiveOnly)) {
      const dependents = [...installed].filter(([, m]) => m.dependencies && name in m.dependencies).map(([n]) => n);
      expect(dependents.filter((d) => !allowed.test(d))).toEqual([]);
    }
    expect(existsSync(join(stage, 'packages'))).toBe(false);
  });

  it('loads: the Azure entry point registers its functions from the staged folder alone', () => {
    const out = execFileSync(process.execPath, ['-e', 'require("./dist/functions/index.js"); console.log("loaded")'], {
      cwd: stage,
      encoding: 'utf8',
      env: { ...process.env, NODE_PATH: '' },
    });
    expect(out).toContain('loaded');
  });
});
