import { app } from '@azure/functions';
import { allFunctions } from './all';
import { registerWithAzure } from './register';

// The Azure Functions host loads this file (package.json "main"); locally, local/host reads functions/all.ts instead.
app.setup({ enableHttpStream: false });
registerWithAzure(app, allFunctions);
