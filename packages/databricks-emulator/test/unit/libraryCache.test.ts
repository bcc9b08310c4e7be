import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pruneLibraryCache } from '../../src/wheelInstaller';

const HOUR = 60 * 60_000;
const NOW = Date.parse('2026-12-08T12:00:00Z');

describe('pruning the installed-wheel cache', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'orbiter-libcache-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** An installed wheel folder whose marker says it was last used `hoursAgo` before NOW. */
  const wheel = (n: number, hoursAgo: number | null): string => {
    const name = n.toString(16).padStart(24, '0');
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, 'module.py'), '');
    if (hoursAgo !== null) {
      const marker = join(dir, name, '.installed');
      writeFileSync(marker, '/Workspace/x.whl');
      const at = new Date(NOW - hoursAgo * HOUR);
      utimesSync(marker, at, at);
    }
    return name;
  };

  it('keeps the most recently used wheels and any used lately, removes the rest', async () => {
    const recent = [1, 2, 3].map((n) => wheel(n, n)); // used 1-3 hours ago
    const old = [4, 5, 6].map((n) => wheel(n, 48 + n)); // idle for more than two days
    const removed = await pruneLibraryCache(dir, { keep: 4, minIdleMs: 24 * HOUR }, NOW);
    // The 4 newest are kept (3 recent + the newest old one); the two oldest idle ones go.
    expect(removed.sort()).toEqual([old[1], old[2]].sort());
    expect(readdirSync(dir).sort()).toEqual([...recent, old[0]].sort());
  });

  it('never removes a wheel used within the idle limit, however many there are', async () => {
    const names = [1, 2, 3, 4, 5].map((n) => wheel(n, n));
    expect(await pruneLibraryCache(dir, { keep: 1, minIdleMs: 24 * HOUR }, NOW)).toEqual([]);
    expect(readdirSync(dir).sort()).toEqual(names.sort());
  });

  it('removes an install a killed process left half done, once it is old; leaves folders it does not own', async () => {
    const half = `${'a'.repeat(24)}.tmp-4242`;
    mkdirSync(join(dir, half));
    const at = new Date(NOW - 30 * HOUR);
    utimesSync(join(dir, half), at, at);
    const fresh = `${'b'.repeat(24)}.tmp-4243`;
    mkdirSync(join(dir, fresh)); // an install running now
    const unmarked = wheel(7, null); // another process's rename in flight
    mkdirSync(join(dir, 'not-a-wheel'));
    const removed = await pruneLibraryCache(dir, { keep: 0, minIdleMs: 24 * HOUR }, NOW);
    expect(removed).toEqual([half]);
    expect(readdirSync(dir).sort()).toEqual([fresh, unmarked, 'not-a-wheel'].sort());
  });

  it('a missing cache folder is nothing to prune', async () => {
    await expect(pruneLibraryCache(join(dir, 'absent'), undefined, NOW)).resolves.toEqual([]);
  });
});
