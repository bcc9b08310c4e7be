import type { ContainerClient } from '@azure/storage-blob';
import { ensureContainers } from '../../../shared/lake/rawLake';

const restError = (statusCode: number) => Object.assign(new Error(`status ${statusCode}`), { name: 'RestError', statusCode });
const container = (fail?: Error) => ({ createIfNotExists: () => (fail ? Promise.reject(fail) : Promise.resolve({})) }) as unknown as ContainerClient;

describe('ensureContainers', () => {
  it('goes on when a container-scoped identity may not create containers (403: the Bicep created them)', async () => {
    await expect(ensureContainers([container(restError(403)), container()])).resolves.toBeUndefined();
  });
  it('fails on anything else', async () => {
    await expect(ensureContainers([container(restError(500))])).rejects.toThrow('status 500');
    await expect(ensureContainers([container(new Error('ECONNREFUSED'))])).rejects.toThrow('ECONNREFUSED');
  });
});
