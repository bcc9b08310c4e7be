import type { ContainerClient } from '@azure/storage-blob';
import type { Window } from '../nasa/source';

/** Header-safe metadata value: ASCII printable, bounded (blob metadata travels as HTTP headers). */
function metaSafe(text: string, max = 1024): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, max);
}

/** Bad upstream payloads are kept byte for byte with the reason, never dropped. */
export interface QuarantineArgs {
  source: string;
  stream: string;
  window: Window;
  page?: number;
  body: Buffer;
  reason: string;
}

export async function quarantinePayload(quarantine: ContainerClient, args: QuarantineArgs & { at: Date }): Promise<string> {
  const [y, m, d] = args.window.start.split('-');
  const stamp = args.at.toISOString().replace(/[:.]/g, '-');
  const pagePart = args.page === undefined ? '' : `.p${String(args.page).padStart(4, '0')}`;
  const name = `${args.source}/${args.stream}/${y}/${m}/${d}/${args.window.start}_${args.window.end}${pagePart}.${stamp}.json`;
  await quarantine.getBlockBlobClient(name).upload(args.body, args.body.length, {
    blobHTTPHeaders: { blobContentType: 'application/octet-stream' },
    metadata: {
      source: args.source,
      stream: args.stream,
      windowstart: args.window.start,
      windowend: args.window.end,
      reason: metaSafe(args.reason),
      quarantinedat: args.at.toISOString(),
    },
  });
  return name;
}
