import type { FunctionDefinition } from './definition';
import { databricksWebhook } from './databricksWebhook';
import { dispatchRunRequests } from './dispatchRunRequests';
import { ingestNasa } from './ingestNasa';
import { landedBlob } from './landedBlob';
import { runControl } from './runControl';

/** Every function of the app, in one list: the Azure entry and the local host both read it. */
export const allFunctions: readonly FunctionDefinition[] = [ingestNasa, landedBlob, dispatchRunRequests, runControl, databricksWebhook];
