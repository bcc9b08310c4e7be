import { parseRawBlobName, rawBlobName } from '../../shared/lake/rawBlobName';
import { redactSecrets } from '../../shared/nasa/redact';
import { runRequestForBlob } from '../../shared/runs/runRequestForBlob';
import { runRequestV1 } from '../../shared/messages/runRequest';
import { compileRoute } from '@orbiter/functions-host/routes';

const sha = 'ab'.repeat(32);

describe('raw blob names', () => {
  it('are content-addressed and round-trip', () => {
    const name = rawBlobName('cmr', 'granules', { start: '2024-05-30', end: '2024-05-30' }, sha, 3);
    expect(name).toBe('cmr/granules/2024/05/30/2024-05-30_2024-05-30.p0003.abababababababab.json');
    expect(parseRawBlobName(name)).toEqual({
      source: 'cmr',
      stream: 'granules',
      window: { start: '2024-05-30', end: '2024-05-30' },
      page: 3,
      sha16: 'abababababababab',
    });
  });
  it('leave foreign names unparsed', () => {
    expect(parseRawBlobName('neows/manual-upload.json')).toBeUndefined();
  });
});

describe('redaction', () => {
  it('removes api_key values and the configured key anywhere', () => {
    const text = '{"self":"http://api.nasa.gov/neo/rest/v1/feed?start_date=2024-01-01&api_key=s3cr3tKEY","x":"s3cr3tKEY"}';
    const out = redactSecrets(text, 's3cr3tKEY');
    expect(out).not.toContain('s3cr3tKEY');
    expect(out).toContain('api_key=REDACTED');
  });
});

describe('run request for a landed blob', () => {
  const now = new Date('2026-11-24T10:00:00Z');
  const blob = {
    container: 'raw',
    name: 'neows/feed/2024/05/25/2024-05-25_2024-05-31.0123456789abcdef.json',
    etag: '"0x1"',
    size: 7,
    sha256: 'a'.repeat(64),
  };

  it('builds a valid v1 message with a deterministic MessageId', () => {
    const a = runRequestForBlob(blob, now);
    const b = runRequestForBlob({ ...blob, etag: '"0x2"' }, new Date());
    if (a.kind !== 'request' || b.kind !== 'request') throw new Error('expected requests');
    expect(runRequestV1.parse(a.request)).toBeTruthy();
    expect(a.request.dataset).toBe('neows');
    expect(a.request.window).toEqual({ start: '2024-05-25', end: '2024-05-31' });
    expect(a.messageId).toBe(b.messageId); // same path + same sha256 → the broker drops the duplicate
    expect(a.messageId.length).toBeLessThanOrEqual(128);
  });
  it('gives changed content a new MessageId', () => {
    const a = runRequestForBlob(blob, now);
    const b = runRequestForBlob({ ...blob, sha256: 'b'.repeat(64) }, now);
    expect(a.kind === 'request' && b.kind === 'request' && a.messageId !== b.messageId).toBe(true);
  });
  it('without a sha256 in the metadata (a blob written by others), keys on path + ETag: one request per version', () => {
    const { sha256: _none, ...foreign } = blob;
    const a = runRequestForBlob(foreign, now);
    const again = runRequestForBlob(foreign, now);
    const next = runRequestForBlob({ ...foreign, etag: '"0x2"' }, now);
    if (a.kind !== 'request' || again.kind !== 'request' || next.kind !== 'request') throw new Error('expected requests');
    expect(a.messageId).toBe(again.messageId);
    expect(next.messageId).not.toBe(a.messageId);
    expect(a.request.inputs[0]).toEqual({ container: 'raw', path: blob.name, etag: '"0x1"', size: 7 });
  });
  it('attack: a forged event for a path that leaves the raw zone, or another container, is ignored with the reason', () => {
    for (const name of ['neows/../../quarantine/neows/feed/2024/05/25/x.json', 'neows/./x.json', 'neows//x.json', 'neows\\x.json']) {
      expect(runRequestForBlob({ ...blob, name }, now)).toMatchObject({ kind: 'ignored', reason: expect.stringMatching(/blob path must/) });
    }
    expect(runRequestForBlob({ ...blob, container: 'quarantine' }, now)).toMatchObject({
      kind: 'ignored',
      reason: expect.stringMatching(/only the raw/),
    });
  });
  it('ignores empty blobs and unknown datasets, saying why', () => {
    expect(runRequestForBlob({ ...blob, size: 0 }, now)).toMatchObject({ kind: 'ignored', reason: expect.stringMatching(/empty/) });
    expect(runRequestForBlob({ ...blob, name: 'mars/x.json' }, now)).toMatchObject({
      kind: 'ignored',
      reason: expect.stringMatching(/"mars" is not a known dataset/),
    });
  });
});

describe('host route templates', () => {
  it('match params, optional segments, and treat malformed escapes as no match', () => {
    expect(compileRoute('runs/{id}').match('/runs/abc%20d')).toEqual({ id: 'abc d' });
    expect(compileRoute('runs/{id}/cancel').match('/runs/x/cancel')).toEqual({ id: 'x' });
    expect(compileRoute('runs/{id?}').match('/runs')).toEqual({});
    expect(compileRoute('runs/{id}').match('/runs/%ZZ')).toBeUndefined();
    expect(compileRoute('runs/{id}').match('/other/1')).toBeUndefined();
  });
});
