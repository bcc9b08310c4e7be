import { DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import { BlobServiceClient } from '@azure/storage-blob';
import { TableClient } from '@azure/data-tables';
import type { OrbiterConfig } from '../config';
import { Connections } from '../names';
import { OrbiterError } from '../errors';

/** Storage clients built from configuration alone: a connection string locally, an identity in Azure. */
export interface StorageClients {
  blobs: BlobServiceClient;
  table(name: string): TableClient;
}

export function azureCredential(config: OrbiterConfig): TokenCredential {
  const clientId = config.OrbiterLake__clientId;
  return clientId ? new ManagedIdentityCredential(clientId) : new DefaultAzureCredential();
}

export function createStorageClients(config: OrbiterConfig, credential?: TokenCredential): StorageClients {
  const conn = config.OrbiterLake;
  if (conn) {
    // Azurite speaks plain http; the SDK refuses shared-key over http unless told it is intended.
    const insecure = /UseDevelopmentStorage=true|DefaultEndpointsProtocol=http;|BlobEndpoint=http:/i.test(conn);
    return {
      blobs: BlobServiceClient.fromConnectionString(conn),
      table: (name) => TableClient.fromConnectionString(conn, name, { allowInsecureConnection: insecure }),
    };
  }
  const blobUri = config.OrbiterLake__blobServiceUri;
  const tableUri = config.OrbiterLake__tableServiceUri;
  if (!blobUri || !tableUri) {
    throw new OrbiterError(
      'ConfigInvalid',
      `identity-based storage needs ${Connections.lake}__blobServiceUri and ${Connections.lake}__tableServiceUri`,
    );
  }
  const cred = credential ?? azureCredential(config);
  return {
    blobs: new BlobServiceClient(blobUri, cred),
    table: (name) => new TableClient(tableUri, name, cred),
  };
}
