import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import { DATABRICKS_ENTRA_SCOPE, EntraTokenProvider, PatTokenProvider } from '../../../shared/databricks/auth';

class FakeCredential implements TokenCredential {
  readonly scopes: string[] = [];
  failNext = false;
  private n = 0;
  constructor(
    private readonly now: () => number,
    private readonly lifetimeMs = 60 * 60_000,
  ) {}
  async getToken(scopes: string | string[], _options?: GetTokenOptions): Promise<AccessToken | null> {
    await Promise.resolve();
    this.scopes.push(...(Array.isArray(scopes) ? scopes : [scopes]));
    if (this.failNext) {
      this.failNext = false;
      throw new Error('IMDS unavailable');
    }
    return { token: `entra-${++this.n}`, expiresOnTimestamp: this.now() + this.lifetimeMs };
  }
}

describe('token providers', () => {
  it('PAT: returns the token, refuses an empty one', async () => {
    await expect(new PatTokenProvider('dapi123').getToken()).resolves.toBe('dapi123');
    expect(() => new PatTokenProvider(' ')).toThrow(TypeError);
  });

  it('Entra: asks for the Azure Databricks scope, caches, refreshes 5 minutes before expiry', async () => {
    let now = 0;
    const cred = new FakeCredential(() => now);
    const provider = new EntraTokenProvider(cred, { now: () => now });
    expect(DATABRICKS_ENTRA_SCOPE).toBe('2ff814a6-3304-4ab8-85cb-cd0e6f879c1d/.default');
    const [a, b] = await Promise.all([provider.getToken(), provider.getToken()]);
    expect([a, b]).toEqual(['entra-1', 'entra-1']);
    expect(cred.scopes).toEqual([DATABRICKS_ENTRA_SCOPE]); // one shared call
    now = 54 * 60_000;
    expect(await provider.getToken()).toBe('entra-1');
    now = 55 * 60_000;
    expect(await provider.getToken()).toBe('entra-2');
    provider.invalidate();
    expect(await provider.getToken()).toBe('entra-3');
  });

  it('Entra: keeps using a still-valid token when a refresh fails, fails with a typed error otherwise', async () => {
    let now = 0;
    const cred = new FakeCredential(() => now);
    const provider = new EntraTokenProvider(cred, { now: () => now });
    await provider.getToken();
    now = 58 * 60_000;
    cred.failNext = true;
    expect(await provider.getToken()).toBe('entra-1');
    now = 61 * 60_000;
    cred.failNext = true;
    await expect(provider.getToken()).rejects.toMatchObject({ code: 'Unauthorized', retryable: true });
  });
});
