import type { AccessToken, TokenCredential } from '@azure/identity';
import { OrbiterError } from '../errors';

/** Supplies the bearer token for Jobs API calls. `invalidate` drops a cached token after a 401. */
export interface TokenProvider {
  getToken(signal?: AbortSignal): Promise<string>;
  invalidate?(): void;
}

/** The Azure Databricks resource (first-party application id); `.default` asks for its configured permissions. */
export const DATABRICKS_ENTRA_SCOPE = '2ff814a6-3304-4ab8-85cb-cd0e6f879c1d/.default';

/** A personal access token (local emulator, developer workspaces). */
export class PatTokenProvider implements TokenProvider {
  constructor(private readonly token: string) {
    if (token.trim() === '') throw new TypeError('PatTokenProvider: token must not be empty');
  }
  getToken(): Promise<string> {
    return Promise.resolve(this.token);
  }
}

export interface EntraTokenProviderOptions {
  scope?: string;
  /** Refresh this long before expiry (default 5 minutes), so no request carries a token about to lapse. */
  refreshMarginMs?: number;
  now?: () => number;
}

/**
 * Microsoft Entra ID tokens from an @azure/identity credential (managed identity in Azure), cached and
 * refreshed ahead of expiry. Concurrent callers share one in-flight refresh; if a refresh fails while the
 * cached token is still valid, the cached token is used.
 */
export class EntraTokenProvider implements TokenProvider {
  private cached: AccessToken | undefined;
  private inFlight: Promise<AccessToken> | undefined;
  private readonly scope: string;
  private readonly marginMs: number;
  private readonly now: () => number;

  constructor(
    private readonly credential: TokenCredential,
    options: EntraTokenProviderOptions = {},
  ) {
    this.scope = options.scope ?? DATABRICKS_ENTRA_SCOPE;
    this.marginMs = options.refreshMarginMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
  }

  async getToken(signal?: AbortSignal): Promise<string> {
    const now = this.now();
    const cached = this.cached;
    if (cached && !this.needsRefresh(cached, now)) return cached.token;
    try {
      const fresh = await this.refresh(signal);
      return fresh.token;
    } catch (err) {
      if (cached && cached.expiresOnTimestamp > this.now()) return cached.token;
      throw err;
    }
  }

  invalidate(): void {
    this.cached = undefined;
  }

  private needsRefresh(token: AccessToken, now: number): boolean {
    const refreshAt = Math.min(token.refreshAfterTimestamp ?? Infinity, token.expiresOnTimestamp - this.marginMs);
    return now >= refreshAt;
  }

  private refresh(signal?: AbortSignal): Promise<AccessToken> {
    this.inFlight ??= (async () => {
      try {
        const token = await this.credential.getToken(this.scope, signal ? { abortSignal: signal } : undefined);
        if (!token) throw new OrbiterError('Unauthorized', 'Entra ID credential returned no token for Azure Databricks', { retryable: true });
        this.cached = token;
        return token;
      } catch (err) {
        if (err instanceof OrbiterError) throw err;
        throw new OrbiterError('Unauthorized', `Could not get an Entra ID token for Azure Databricks: ${(err as Error).message}`, {
          retryable: true,
          cause: err,
        });
      } finally {
        this.inFlight = undefined;
      }
    })();
    return this.inFlight;
  }
}

export type DatabricksAuthSettings =
  | { auth: 'pat'; token: string }
  /** `credential` defaults to DefaultAzureCredential (managed identity in Azure; az login on a laptop). */
  | { auth: 'entra'; credential?: TokenCredential; managedIdentityClientId?: string };

/** Builds the token provider from DATABRICKS_AUTH (pat|entra) style settings. */
export async function createTokenProvider(settings: DatabricksAuthSettings): Promise<TokenProvider> {
  if (settings.auth === 'pat') return new PatTokenProvider(settings.token);
  if (settings.credential) return new EntraTokenProvider(settings.credential);
  const identity = await import('@azure/identity');
  const credential = new identity.DefaultAzureCredential(
    settings.managedIdentityClientId ? { managedIdentityClientId: settings.managedIdentityClientId } : {},
  );
  return new EntraTokenProvider(credential);
}
