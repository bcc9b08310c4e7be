import type { HttpFunction } from './definition';
import { TableIdempotencyStore, IDEMPOTENCY_TABLE } from '../shared/api/idempotency';
import type { RunApiDeps } from '../shared/api/runs';
import type { ApiAuthMode } from '../shared/api/auth';
import { Containers } from '../shared/names';
import { sendRunRequest } from '../shared/runs/sendRunRequest';
import { runtime, type Runtime } from './runtime';
import { restStatus } from '../shared/storage/restStatus';

const idempotencyStores = new WeakMap<Runtime, TableIdempotencyStore>();

/** The Run API's dependencies, from the composition root. */
export async function runApiDeps(): Promise<RunApiDeps> {
  const rt = runtime();
  let idempotency = idempotencyStores.get(rt);
  if (!idempotency) {
    idempotency = new TableIdempotencyStore(rt.storage.table(IDEMPOTENCY_TABLE));
    idempotencyStores.set(rt, idempotency);
  }
  const raw = rt.storage.blobs.getContainerClient(Containers.raw);
  return {
    runs: rt.runs,
    catalog: await rt.catalog(),
    idempotency,
    raw: {
      async etagOf(path) {
        try {
          return (await raw.getBlobClient(path).getProperties()).etag;
        } catch (err) {
          if (restStatus(err) === 404) return undefined;
          throw err;
        }
      },
      async *list(prefix) {
        for await (const b of raw.listBlobsFlat({ prefix })) yield { name: b.name, etag: b.properties.etag ?? '' };
      },
    },
    send: (messageId, request) => sendRunRequest(rt.sender(), messageId, request),
    jobs: async () => {
      const jobs = await rt.jobs();
      return { cancelRun: (id: number) => jobs.cancelRun(id, { timeoutMs: 10_000 }) };
    },
    now: () => new Date(),
  };
}

export function apiAuthMode(): ApiAuthMode {
  return runtime().config.API_AUTH_MODE ?? 'function-key';
}

/**
 * Function keys guard the API unless App Service authentication (Entra ID) does: then the functions are anonymous
 * to the host and the handlers check the caller's app roles. Read at registration, like any trigger option.
 */
export const runApiAuthLevel: HttpFunction['authLevel'] = process.env['API_AUTH_MODE'] === 'entra' ? 'anonymous' : 'function';
