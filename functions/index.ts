import { app } from '@azure/functions';
import { allFunctions } from './all';
import { composeApp } from './composition';
import { registerWithAzure } from './register';

// The Azure Functions host loads this file (package.json "main"); the local host builds the same functions from
// its own settings. The app settings are the environment here; clients are created on first use (cold start).
app.setup({ enableHttpStream: false });
registerWithAzure(app, allFunctions(composeApp(process.env)));
