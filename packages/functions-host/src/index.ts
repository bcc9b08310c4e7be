export { FunctionHost, type HostOptions, type InvocationOutcome } from './functionHost';
export { BlobWatcher } from './blobWatcher';
export { mergeSettings, readLocalSettings, readSettingsFile } from './settings';
