import { app } from '@azure/functions';
import { allFunctions } from './all';
import { composeApp } from './composition';
import { registerWithAzure } from './register';

// The Azure Functions host loads this file (package.json "main"); the local host builds the same functions from
// its own settings. The app settings are the environment here; clients are created on first use (cold start).
// Streamed request bodies: the handlers count bytes while reading and stop at their limit (64 KiB for the Run API),
// where a buffered body would be held whole (up to the host's 100 MB) before any check could run.
app.setup({ enableHttpStream: true });
registerWithAzure(app, allFunctions(composeApp(process.env)));
