import type { FunctionDefinition } from './definition';
import { ingestNasa } from './ingestNasa';
import { landedBlob } from './landedBlob';

/** Every function of the app, in one list: the Azure entry and the local host both read it. */
export const allFunctions: readonly FunctionDefinition[] = [ingestNasa, landedBlob];
