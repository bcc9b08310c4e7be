import type { AppDeps } from './composition';
import { databricksWebhook } from './databricksWebhook';
import type { FunctionDefinition } from './definition';
import { dispatchRunRequests } from './dispatchRunRequests';
import { health } from './health';
import { ingestNasa } from './ingestNasa';
import { landedBlob } from './landedBlob';
import { openapi } from './openapi';
import { runControl } from './runControl';
import { runsCancel } from './runsCancel';
import { runsCreate } from './runsCreate';
import { runsGet } from './runsGet';
import { runsLogs } from './runsLogs';
import { runsList } from './runsList';

/** Every function of the app, built from one set of dependencies: the Azure entry and the local host both call it. */
export function allFunctions(deps: AppDeps): readonly FunctionDefinition[] {
  return [
    ingestNasa(deps),
    landedBlob(deps),
    dispatchRunRequests(deps),
    runControl(deps),
    databricksWebhook(deps),
    runsCreate(deps),
    runsList(deps),
    runsGet(deps),
    runsLogs(deps),
    runsCancel(deps),
    health(deps),
    openapi(),
  ];
}
