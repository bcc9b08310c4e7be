// The guard is shared with the Databricks emulator's run pages.
export { isOwnHost, isOwnOrigin } from 'orbiter/shared/http/hostCheck';
