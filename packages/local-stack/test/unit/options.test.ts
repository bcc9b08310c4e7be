import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { writeStackSettings } from '@orbiter/ops/cli/stackSettings';
import { parseSources, resetState, resetStateDirs } from '@orbiter/local-stack/options';

describe('npm start -- --source', () => {
  it('accepts known sources, trims and de-duplicates them', () => {
    expect(parseSources('apod, neows,apod')).toEqual(['apod', 'neows']);
  });

  it('names an unknown source and the known ones, through commander as a usage error', () => {
    expect(() => parseSources('apod,mars')).toThrow(
      /unknown source\(s\): mars \(known: neows, donki, eonet, apod, epic, fireball, meteorites, cmr\)/,
    );
    expect(() => parseSources(' , ')).toThrow(/name at least one source/);
    const errors: string[] = [];
    const program = new Command('orbiter-local')
      .exitOverride()
      .configureOutput({ writeErr: (s) => errors.push(s) })
      .option('--source <ids>', 'sources', parseSources);
    expect(() => program.parse(['--source', 'mars'], { from: 'user' })).toThrow();
    expect(errors.join('')).toMatch(/option '--source <ids>' argument 'mars' is invalid\. unknown source\(s\): mars/);
    expect(program.parse(['--source', 'fireball,meteorites'], { from: 'user' }).opts()['source']).toEqual(['fireball', 'meteorites']);
  });
});

describe('npm start -- --reset', () => {
  let root: string;
  let dataDir: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'orbiter-reset-'));
    dataDir = join(root, '.orbiter');
    for (const d of [...resetStateDirs, 'jars']) mkdirSync(join(dataDir, d, 'inner'), { recursive: true });
    writeFileSync(join(dataDir, 'azurite', '__azurite_db_table__.json'), '{}');
    writeFileSync(join(dataDir, 'function-key'), 'k');
    writeFileSync(join(root, 'keep.txt'), 'outside the data folder');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('clears the state folders only, keeping the function key, the jars and everything outside', () => {
    const removed = resetState(dataDir, root);
    expect(removed.sort()).toEqual(resetStateDirs.map((d) => join(dataDir, d)).sort());
    for (const d of resetStateDirs) expect(existsSync(join(dataDir, d))).toBe(false);
    expect(existsSync(join(dataDir, 'function-key'))).toBe(true);
    expect(existsSync(join(dataDir, 'jars', 'inner'))).toBe(true);
    expect(existsSync(join(root, 'keep.txt'))).toBe(true);
    expect(resetState(dataDir, root)).toEqual([]); // nothing left: still fine
  });

  it('refuses while a stack runs on the folder, and refuses a folder that is not a dedicated one', () => {
    writeStackSettings(dataDir, { ServiceBusConnection: 'x' }); // this process: alive
    expect(() => resetState(dataDir, root)).toThrow(/a local stack \(pid \d+\) is running/);
    expect(existsSync(join(dataDir, 'azurite', '__azurite_db_table__.json'))).toBe(true);
    // A stale file (its stack is gone) does not block.
    expect(resetState(dataDir, root, () => false)).toHaveLength(resetStateDirs.length);
    expect(() => resetState(root, root)).toThrow(/refuses data folder/);
    expect(() => resetState(resolve('/'), root)).toThrow(/refuses data folder/);
  });
});
