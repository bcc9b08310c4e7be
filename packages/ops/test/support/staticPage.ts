import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** The little of the DOM the page-side callbacks touch (the check build has no DOM lib). */
interface El {
  dataset: Record<string, string | undefined>;
  querySelectorAll(selector: string): { length: number };
  innerText: string;
}
type PageGlobal = { document: { querySelectorAll(s: string): { length: number } } };

/** What one Lakeview widget shows once drawn. */
export interface WidgetState {
  name: string;
  /** The Lakeview widget type (bar, line, scatter, table, counter, symbol-map…). */
  type: string;
  /** What it drew: chart, table, counter, text, or empty (no rows). */
  kind: string;
  /** done, empty, error (drawing only while it draws). */
  state: string;
  /** Data marks (not legend symbols or axis ticks). */
  marks: number;
  /** Coastline paths on a map. */
  land: number;
  rows: number;
  text: string;
}

export interface OpenedPage {
  page: Page;
  widgets: WidgetState[];
  /** Console errors and warnings, and uncaught page errors. */
  problems: string[];
  /** Requests that left file:// (all refused). */
  requests: string[];
  close(): Promise<void>;
}

/** Debian's headless Chromium with the flags this machine's closed network needs; a missing browser is an error, not a skip. */
export async function launchChromium(profileDir: string): Promise<BrowserContext> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: install it with \`bash scripts/setup-browser.sh\` (apt-get install chromium); this test does not skip`);
  return chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1400, height: 1000 },
  });
}

/**
 * Opens a static dashboard page from file:// with every network request refused, waits until no Lakeview widget is
 * still drawing, and reports what each widget holds.
 */
export async function openStaticPage(file: string, drawTimeoutMs = 60_000): Promise<OpenedPage> {
  const profile = mkdtempSync(join(tmpdir(), 'orbiter-chromium-'));
  const browser = await launchChromium(profile);
  const close = async (): Promise<void> => {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  };
  try {
    const page = browser.pages()[0] ?? (await browser.newPage());
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    const requests: string[] = [];
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file://')) return route.continue();
      requests.push(url);
      return route.abort();
    });
    await page.goto(`file://${file}`);
    const widgets = page.locator('#lakeview .lv-widget');
    await widgets.first().waitFor({ timeout: drawTimeoutMs });
    await page.waitForFunction(
      () => (globalThis as unknown as PageGlobal).document.querySelectorAll('#lakeview .lv-widget[data-state="drawing"]').length === 0,
      undefined,
      { timeout: drawTimeoutMs },
    );
    const states = await widgets.evaluateAll((els) =>
      els.map((e) => {
        const el = e as unknown as El;
        return {
          name: el.dataset['widget'] ?? '',
          type: el.dataset['type'] ?? '',
          kind: el.dataset['kind'] ?? '',
          state: el.dataset['state'] ?? '',
          marks: el.querySelectorAll('svg g.role-mark > path').length,
          land: el.querySelectorAll('svg g.mark-shape.role-mark > path').length,
          rows: el.querySelectorAll('tbody tr').length,
          text: el.innerText,
        };
      }),
    );
    return { page, widgets: states, problems, requests, close };
  } catch (err) {
    await close();
    throw err;
  }
}
