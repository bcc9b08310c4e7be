import type { FunctionDefinition } from './definition';
import { databricksWebhook } from './databricksWebhook';
import { health } from './health';
import { openapi } from './openapi';
import { runsCancel } from './runsCancel';
import { runsCreate } from './runsCreate';
import { runsGet } from './runsGet';
import { runsList } from './runsList';
import { dispatchRunRequests } from './dispatchRunRequests';
import { ingestNasa } from './ingestNasa';
import { landedBlob } from './landedBlob';
import { runControl } from './runControl';

/** Every function of the app, in one list: the Azure entry and the local host both read it. */
export const allFunctions: readonly FunctionDefinition[] = [
  ingestNasa,
  landedBlob,
  dispatchRunRequests,
  runControl,
  databricksWebhook,
  runsCreate,
  runsList,
  runsGet,
  runsCancel,
  health,
  openapi,
];
