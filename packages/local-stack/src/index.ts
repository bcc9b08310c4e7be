export { startStack, type Stack, type StackOptions } from './stack';
export { freePort, freeStackPorts } from './ports';
export { waitForRuns } from './waitForRuns';
