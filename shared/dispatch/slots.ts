import type { TableClient } from '@azure/data-tables';
import { restStatus } from '../storage/restStatus';

/**
 * maxRunsInFlight as claimable slots: a dataset has `cap` slot rows, each held by at most one Orbiter run. Coalesced
 * batches and Run API runs claim from the same rows before run-now, so the cap holds across both and across instances
 * (a claim is a conditional insert or an ETag-checked replace: two claimers of one row cannot both win).
 */
export interface SlotRow {
  index: number;
  holder: string;
  claimedAt: string;
  etag: string;
}

/** The storage a slot claim needs (TableSlotRows in OrbiterRuns; a memory version in the tests). */
export interface SlotRows {
  list(dataset: string): Promise<SlotRow[]>;
  /** Inserts the row; false if it already exists. */
  create(dataset: string, index: number, holder: string, claimedAt: string): Promise<boolean>;
  /** Replaces the row if unchanged since `etag`; false otherwise. */
  replace(dataset: string, index: number, holder: string, claimedAt: string, etag: string): Promise<boolean>;
  /** Deletes the row if unchanged since `etag` (a lost race is fine: someone else took it over). */
  remove(dataset: string, index: number, etag: string): Promise<void>;
}

/** Whether a slot's holder no longer needs it (its run finished, vanished, or never got going). */
export type HolderDone = (holder: string, claimedAt: string) => Promise<boolean>;

/** Claims a slot of `dataset` for `runId`: true if the run holds one now (it may have held it already). */
export async function claimSlot(rows: SlotRows, dataset: string, runId: string, cap: number, holderDone: HolderDone, now: Date): Promise<boolean> {
  const held = await rows.list(dataset);
  if (held.some((r) => r.holder === runId)) return true;
  const at = now.toISOString();
  for (let index = 0; index < cap; index++) {
    const row = held.find((r) => r.index === index);
    if (!row) {
      if (await rows.create(dataset, index, runId, at)) return true;
      continue; // taken meanwhile
    }
    if ((await holderDone(row.holder, row.claimedAt)) && (await rows.replace(dataset, index, runId, at, row.etag))) return true;
  }
  return false;
}

/** Frees every slot `runId` holds (a finished run; idempotent). */
export async function releaseSlot(rows: SlotRows, dataset: string, runId: string): Promise<void> {
  for (const r of await rows.list(dataset)) if (r.holder === runId) await rows.remove(dataset, r.index, r.etag);
}

/** Free slots of a dataset now (rows past `cap` ignored): how many waiting runs a finishing run may wake. */
export async function freeSlots(rows: SlotRows, dataset: string, cap: number, holderDone: HolderDone): Promise<number> {
  const held = (await rows.list(dataset)).filter((r) => r.index < cap);
  let busy = 0;
  for (const r of held) if (!(await holderDone(r.holder, r.claimedAt))) busy++;
  return Math.max(0, cap - busy);
}

interface SlotEntity {
  partitionKey: string;
  rowKey: string;
  holder: string;
  claimedAt: string;
}

/** Slot rows in the runs table, one partition per dataset (`~slots|<dataset>`; run rows have row key `run`). */
export class TableSlotRows implements SlotRows {
  private ready: Promise<void> | undefined;
  constructor(private readonly table: TableClient) {}

  private ensure(): Promise<void> {
    this.ready ??= this.table.createTable().then(() => undefined);
    return this.ready;
  }

  private static pk(dataset: string): string {
    return `~slots|${dataset}`;
  }

  private static rk(index: number): string {
    return `slot-${String(index).padStart(4, '0')}`;
  }

  async list(dataset: string): Promise<SlotRow[]> {
    await this.ensure();
    const out: SlotRow[] = [];
    const filter = `PartitionKey eq '${TableSlotRows.pk(dataset).replace(/'/g, "''")}'`;
    for await (const e of this.table.listEntities<SlotEntity>({ queryOptions: { filter } })) {
      const index = Number(e.rowKey.replace(/^slot-/, ''));
      if (Number.isInteger(index)) out.push({ index, holder: e.holder, claimedAt: e.claimedAt, etag: e.etag });
    }
    return out;
  }

  async create(dataset: string, index: number, holder: string, claimedAt: string): Promise<boolean> {
    await this.ensure();
    try {
      await this.table.createEntity<SlotEntity>({ partitionKey: TableSlotRows.pk(dataset), rowKey: TableSlotRows.rk(index), holder, claimedAt });
      return true;
    } catch (err) {
      if (restStatus(err) === 409) return false;
      throw err;
    }
  }

  async replace(dataset: string, index: number, holder: string, claimedAt: string, etag: string): Promise<boolean> {
    await this.ensure();
    try {
      await this.table.updateEntity<SlotEntity>(
        { partitionKey: TableSlotRows.pk(dataset), rowKey: TableSlotRows.rk(index), holder, claimedAt },
        'Replace',
        { etag },
      );
      return true;
    } catch (err) {
      if (restStatus(err) === 412 || restStatus(err) === 404) return false;
      throw err;
    }
  }

  async remove(dataset: string, index: number, etag: string): Promise<void> {
    await this.ensure();
    try {
      await this.table.deleteEntity(TableSlotRows.pk(dataset), TableSlotRows.rk(index), { etag });
    } catch (err) {
      if (restStatus(err) === 412 || restStatus(err) === 404) return;
      throw err;
    }
  }
}
