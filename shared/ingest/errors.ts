import { OrbiterError } from '../errors';
import type { CycleSummary } from './ingestCycle';

export class IngestionFailedError extends OrbiterError {
  constructor(readonly summary: CycleSummary) {
    const failed = summary.streams.filter((s) => s.errors.length > 0).map((s) => `${s.source}/${s.stream}: ${s.errors.join('; ')}`);
    super('UpstreamHttpError', `ingestion failed for ${failed.length} stream(s): ${failed.join(' | ')}`, { retryable: true });
  }
}
