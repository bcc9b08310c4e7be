import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { allFunctions } from '../../../functions/all';
import { composeApp } from '../../../functions/composition';
import { configSchema, loadConfig } from '../../../shared/config';
import { Connections, Containers, Queues, Subscriptions, Tables, Topics } from '../../../shared/names';
import {
  balancedBlock,
  INFRA_DIR,
  loadCalls,
  moduleCalls,
  objectEntries,
  outputs,
  params,
  readBicep,
  resolveModulePath,
  stringArray,
  stringLiteral,
  varText,
} from './support/bicep';
import { REPO_ROOT } from './support/bundle';

/**
 * Textual consistency checks of infra/*.bicep against the code (names, config schema, functions) and against itself
 * (modules exist, parameters are passed and declared). `az bicep build` runs in the user workflow; it cannot run here.
 */

/** The app's functions (their definitions only: no client is created until a handler runs). */
const appFunctions = allFunctions(composeApp({}));
const main = readBicep('main.bicep');
const mainParameters = JSON.parse(readFileSync(join(INFRA_DIR, 'main.parameters.json'), 'utf8')) as {
  parameters: Record<string, { value: unknown }>;
};
const modules = moduleCalls(main);

/**
 * Config-schema keys the Bicep must NOT set, each with the reason. Every other key of configSchema must be an app
 * setting. Keep this list short: a key added to the schema fails the test until it is deployed or listed here.
 */
const NOT_SET_IN_AZURE: Record<string, string> = {
  OrbiterLake: 'local connection string; Azure uses OrbiterLake__* identity-based settings',
  ServiceBusConnection: 'local connection string; Azure uses ServiceBusConnection__fullyQualifiedNamespace',
  DATABRICKS_TOKEN: 'local only (PAT); Azure uses DATABRICKS_AUTH=entra with the managed identity',
  ORBITER_FUNCTION_KEY: 'local only; Azure manages function keys',
  ORBITER_TELEMETRY_DIR: 'local only: JSON-lines telemetry for the local dashboard; Azure uses Application Insights',
  ENTRA_JWKS_URI: "tests only: Azure uses the tenant's own signing keys (the default)",
  ENTRA_ISSUER: "tests only: Azure uses the tenant's v2.0/v1.0 issuers (the default)",
  COALESCING_WINDOW_MAX_SECONDS: 'local stack only: caps coalescing windows for quick demos; Azure uses the job catalog windows',
};

function appSettings(): Map<string, string> {
  return objectEntries(varText(main, 'functionAppSettings').slice(1, -1));
}

describe('Run API authentication in Azure', () => {
  const fnApp = readBicep('app/functionapp.bicep');
  it('declares App Service authentication (Entra ID) that answers 401 to unauthenticated calls', () => {
    expect(fnApp).toMatch(/name: 'authsettingsV2'/);
    expect(fnApp).toMatch(/requireAuthentication: true/);
    expect(fnApp).toMatch(/unauthenticatedClientAction: 'Return401'/);
    expect(fnApp).toMatch(/allowedAudiences: \[\s*apiAudience\s*\]/);
  });
  it('runs the app in entra mode with a token verifier configuration (tenant, audience)', () => {
    const s = appSettings();
    expect(s.get('API_AUTH_MODE')).toBe("'entra'");
    expect(s.get('ENTRA_TENANT_ID')).toBe('tenant().tenantId');
    expect(s.get('ENTRA_API_AUDIENCE')).toBe('apiAudience');
  });
});

describe('Key Vault', () => {
  it('has purge protection in production (the default) and a 90-day soft delete there', () => {
    expect(main).toMatch(/param production bool = true/);
    expect(balancedBlock(main, main.indexOf('module keyVault')).body).toMatch(/enablePurgeProtection: production/);
    const kv = readBicep('app/keyvault.bicep');
    expect(kv).toMatch(/softDeleteRetentionInDays: enablePurgeProtection \? 90 : 7/);
  });
});

describe('Bicep files', () => {
  const bicepFiles = [
    'main.bicep',
    ...readdirSync(join(INFRA_DIR, 'app'))
      .filter((f) => f.endsWith('.bicep'))
      .map((f) => `app/${f}`),
  ];

  it('reference only module files that exist (local modules, no unpinned registry refs)', () => {
    for (const file of bicepFiles) {
      for (const m of moduleCalls(readBicep(file))) {
        if (m.path.startsWith('br/') || m.path.startsWith('br:')) {
          expect(m.path).toMatch(/:\d+\.\d+\.\d+$/); // registry modules must be pinned
          continue;
        }
        expect({ file, module: m.path, exists: existsSync(resolveModulePath(file, m.path)) }).toEqual({ file, module: m.path, exists: true });
      }
    }
  });

  it('use every module under infra/app from main.bicep', () => {
    const used = modules.map((m) => m.path);
    for (const file of bicepFiles.filter((f) => f.startsWith('app/'))) expect(used).toContain(file);
  });

  it('load only files that exist, and JSON that parses', () => {
    for (const file of bicepFiles) {
      for (const call of loadCalls(readBicep(file))) {
        const path = resolveModulePath(file, call.path);
        expect({ file, path: call.path, exists: existsSync(path) }).toEqual({ file, path: call.path, exists: true });
        if (call.path.endsWith('.json')) expect(() => JSON.parse(readFileSync(path, 'utf8')) as unknown).not.toThrow();
      }
    }
  });

  it.each(modules.map((m) => [m.symbol, m] as const))('module %s gets every required param and only declared ones', (_symbol, m) => {
    const declared = params(readFileSync(resolveModulePath('main.bicep', m.path), 'utf8'));
    const names = declared.map((p) => p.name);
    const passed = [...m.params.keys()];
    expect(passed.filter((p) => !names.includes(p))).toEqual([]);
    expect(declared.filter((p) => !p.hasDefault && !passed.includes(p.name)).map((p) => p.name)).toEqual([]);
  });

  it('give main.bicep params a default or a value in main.parameters.json, and declare every parameters-file entry', () => {
    const declared = params(main);
    const inFile = Object.keys(mainParameters.parameters);
    expect(declared.filter((p) => !p.hasDefault && !inFile.includes(p.name)).map((p) => p.name)).toEqual([]);
    expect(inFile.filter((n) => !declared.some((p) => p.name === n))).toEqual([]);
  });

  it('keep the NASA key a secure parameter without a default in code', () => {
    const key = params(main).find((p) => p.name === 'nasaApiKey');
    expect(key).toMatchObject({ secure: true, hasDefault: false });
  });

  it('name every output in UPPER_SNAKE for azd', () => {
    const names = outputs(main);
    expect(names.length).toBeGreaterThan(10);
    for (const n of names) expect(n).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
  });
});

describe('names shared with the code (shared/names.ts)', () => {
  it('creates a lake container per zone', () => {
    expect(stringArray(varText(main, 'lakeContainerNames')).sort()).toEqual(Object.values(Containers).sort());
  });

  it('creates the Orbiter tables', () => {
    expect(stringArray(varText(main, 'tableNames')).sort()).toEqual(Object.values(Tables).sort());
  });

  it('creates the queues, the topic and its subscriptions', () => {
    const queues = objectEntries(varText(main, 'queueNames').slice(1, -1));
    expect(Object.fromEntries([...queues].map(([k, v]) => [k, stringLiteral(v)]))).toEqual(Queues);
    expect(stringLiteral(varText(main, 'topicName'))).toBe(Topics.runEvents);
    expect(stringArray(varText(main, 'topicSubscriptionNames')).sort()).toEqual(Object.values(Subscriptions).sort());
  });

  it('subscribes the Event Grid function of the app that handles landed blobs to the raw container', () => {
    const name = stringLiteral(varText(main, 'blobTriggerFunctionName'));
    const fn = appFunctions.find((f) => f.name === name);
    // An Event Grid trigger, never a blob trigger: the host would download the whole blob before the function runs.
    expect(fn).toMatchObject({ kind: 'blobEvent', container: Containers.raw });
    expect(appFunctions.some((f) => (f.kind as string) === 'blob')).toBe(false);
    expect(stringLiteral(varText(main, 'blobTriggerContainerName'))).toBe(Containers.raw);
  });
});

describe('Function App settings against the config schema (shared/config.ts)', () => {
  const settings = appSettings();
  const schemaKeys = Object.keys(configSchema.shape);

  it('sets every config-schema setting that applies in Azure', () => {
    const missing = schemaKeys.filter((k) => !(k in NOT_SET_IN_AZURE) && !settings.has(k));
    expect(missing).toEqual([]);
  });

  it('lists as not-set only keys the schema has, and does not set them', () => {
    for (const key of Object.keys(NOT_SET_IN_AZURE)) {
      expect(schemaKeys).toContain(key);
      expect(settings.has(key)).toBe(false);
    }
  });

  it('connects with managed identity, never with connection strings or keys', () => {
    for (const conn of [Connections.lake, Connections.serviceBus, 'AzureWebJobsStorage']) {
      expect(settings.get(`${conn}__credential`)).toBe("'managedidentity'");
      expect(settings.get(`${conn}__clientId`)).toBe('identity.outputs.clientId');
      expect(settings.has(conn)).toBe(false);
    }
    for (const svc of ['blob', 'queue', 'table']) expect(settings.has(`${Connections.lake}__${svc}ServiceUri`)).toBe(true);
    expect(settings.has(`${Connections.serviceBus}__fullyQualifiedNamespace`)).toBe(true);
    expect(settings.has('AzureWebJobsStorage__accountName')).toBe(true);
    expect(settings.get('APPLICATIONINSIGHTS_AUTHENTICATION_STRING')).toContain('Authorization=AAD');
  });

  it('reads NASA_API_KEY through a Key Vault reference', () => {
    expect(settings.get('NASA_API_KEY')).toMatch(
      /^'@Microsoft\.KeyVault\(VaultName=\$\{keyVault\.outputs\.name\};SecretName=\$\{nasaApiKeySecretName\}\)'$/,
    );
  });

  it('does not set settings the Flex Consumption plan rejects', () => {
    for (const key of ['FUNCTIONS_WORKER_RUNTIME', 'FUNCTIONS_EXTENSION_VERSION', 'WEBSITE_RUN_FROM_PACKAGE', 'WEBSITE_NODE_DEFAULT_VERSION']) {
      expect(settings.has(key)).toBe(false);
    }
    expect(readBicep('app/functionapp.bicep')).toMatch(/sku:\s*\{\s*name: 'FC1'\s*tier: 'FlexConsumption'/);
  });

  it('sets every %SETTING% a function binding refers to', () => {
    for (const fn of appFunctions) {
      for (const value of Object.values(fn)) {
        const m = typeof value === 'string' ? /^%(.+)%$/.exec(value) : null;
        if (m) expect({ fn: fn.name, setting: m[1], set: settings.has(m[1]!) }).toEqual({ fn: fn.name, setting: m[1], set: true });
      }
    }
  });

  it('deploys defaults that the config schema accepts and that equal its own defaults', () => {
    const mainParams = new Map(params(main).map((p) => [p.name, p]));
    // Values computed at deployment time get representative stand-ins.
    const standIns: Record<string, string> = {
      OrbiterLake__blobServiceUri: 'https://stlake.blob.core.windows.net/',
      OrbiterLake__tableServiceUri: 'https://stlake.table.core.windows.net/',
      DATABRICKS_HOST: 'https://adb-1.2.azuredatabricks.net',
      JOBS_LAKE_ROOT: 'abfss://{zone}@stlakeexample.dfs.core.windows.net',
      ENTRA_TENANT_ID: '11111111-2222-4333-8444-555555555555',
    };
    const env: Record<string, string> = {};
    const fromParams: string[] = [];
    for (const [key, value] of settings) {
      const literal = stringLiteral(value);
      const param = mainParams.get(value);
      if (literal !== undefined) env[key] = literal;
      else if (param?.defaultText !== undefined && stringLiteral(param.defaultText) !== undefined) {
        env[key] = stringLiteral(param.defaultText)!;
        fromParams.push(key);
      } else env[key] = standIns[key] ?? 'deployment-time-value';
    }
    const deployed = loadConfig(env) as Record<string, unknown>;
    const schemaDefaults = loadConfig({ OrbiterLake__blobServiceUri: standIns.OrbiterLake__blobServiceUri }) as Record<string, unknown>;
    expect(fromParams.length).toBeGreaterThan(10);
    for (const key of fromParams) expect({ key, value: deployed[key] }).toEqual({ key, value: schemaDefaults[key] });
  });
});

describe('resources', () => {
  it('makes the lake an HNS account without shared keys, with raw tiering and a cool-after parameter', () => {
    const lake = readBicep('app/lake.bicep');
    expect(lake).toContain('isHnsEnabled: true');
    expect(lake).toContain('allowSharedKeyAccess: false');
    expect(lake).toMatch(/prefixMatch: \['raw\/'\]/);
    expect(lake).toMatch(/prefixMatch: \['events\/manifests\/'\]/); // run input manifests expire (manifestDeleteAfterDays)
    expect(lake).toContain('concat([rawRule, deadLetterRule, manifestRule]');
    expect(lake).toMatch(/tierToCool: \{\s*daysAfterModificationGreaterThan: rawCoolAfterDays/);
    expect(modules.find((m) => m.symbol === 'lake')!.params.get('rawCoolAfterDays')).toBe('rawCoolAfterDays');
    expect(readBicep('app/host-storage.bicep')).toContain('allowSharedKeyAccess: false');
  });

  it('configures Service Bus with duplicate detection, MaxDeliveryCount and dead-lettering on expiry', () => {
    const sb = readBicep('app/servicebus.bicep');
    expect(sb).toContain('disableLocalAuth: true');
    // run-requests, run-status (deterministic control message ids) and run-failures (one entry per failed attempt).
    expect(sb.match(/requiresDuplicateDetection: true/g)).toHaveLength(3);
    expect(sb.match(/maxDeliveryCount: maxDeliveryCount/g)).toHaveLength(4); // three queues + subscriptions loop
    expect(sb.match(/deadLetteringOnMessageExpiration: true/g)).toHaveLength(4);
    // The app parks failed runs on run-failures and moves them to its dead-letter queue: it needs send and receive.
    const rbac = readBicep('app/rbac.bicep');
    expect(rbac).toMatch(
      /scope: runFailures\s+properties: \{\s+roleDefinitionId: subscriptionResourceId\('Microsoft.Authorization\/roleDefinitions', serviceBusDataSender\)/,
    );
    expect(rbac).toMatch(
      /scope: runFailures\s+properties: \{\s+roleDefinitionId: subscriptionResourceId\('Microsoft.Authorization\/roleDefinitions', serviceBusDataReceiver\)/,
    );
  });

  it('filters blob events to completed writes in the watched container, with retries and dead-lettering', () => {
    const sub = readBicep('app/blob-event-subscription.bicep');
    expect(sub).toContain("'Microsoft.Storage.BlobCreated'");
    expect(sub).toContain("subjectBeginsWith: '/blobServices/default/containers/${containerName}/'");
    expect(sub).toMatch(/key: 'data\.api'\s*values: \[\s*'PutBlob'\s*'PutBlockList'\s*'FlushWithClose'\s*\]/);
    expect(sub).toContain('/runtime/webhooks/eventgrid?functionName=${functionName}&code=${eventGridExtensionKey}');
    expect(sub).toContain('systemKeys.eventgrid_extension');
    expect(sub).toMatch(/retryPolicy: \{\s*maxDeliveryAttempts: maxDeliveryAttempts/);
    expect(sub).toContain('deadLetterWithResourceIdentity');
  });

  it('creates the blob subscription from main.bicep and from the postdeploy hooks with the same values', () => {
    const call = modules.find((m) => m.path === 'app/blob-event-subscription.bicep')!;
    expect(call.conditional).toBe(true);
    expect(call.params.get('subscriptionName')).toBe("'raw-to-${blobTriggerFunctionName}'");
    expect(call.params.get('functionName')).toBe('blobTriggerFunctionName');
    expect(call.params.get('containerName')).toBe('blobTriggerContainerName');
    expect(call.params.get('deadLetterContainerName')).toBe('deadLetterContainerName');
    const fnName = stringLiteral(varText(main, 'blobTriggerFunctionName'))!;
    const expected = {
      subscriptionName: `raw-to-${fnName}`,
      functionName: fnName,
      containerName: stringLiteral(varText(main, 'blobTriggerContainerName'))!,
      deadLetterContainerName: stringLiteral(varText(main, 'deadLetterContainerName'))!,
    };
    for (const hook of ['scripts/postdeploy.sh', 'scripts/postdeploy.ps1']) {
      const text = readFileSync(join(INFRA_DIR, hook), 'utf8');
      for (const [k, v] of Object.entries(expected))
        expect({ hook, param: `${k}=${v}`, found: text.includes(`${k}=${v}`) }).toEqual({ hook, param: `${k}=${v}`, found: true });
      const declared = params(readBicep('app/blob-event-subscription.bicep')).filter((p) => !p.hasDefault);
      for (const p of declared) expect({ hook, param: p.name, passed: text.includes(`${p.name}=`) }).toEqual({ hook, param: p.name, passed: true });
    }
  });

  it('assigns roles by guid(scope, principal, role) with named, commented role ids', () => {
    const raw = readFileSync(join(INFRA_DIR, 'app/rbac.bicep'), 'utf8');
    const rbac = readBicep('app/rbac.bicep');
    const roleVars = [...rbac.matchAll(/^var (\w+) = '([0-9a-f-]{36})'$/gm)].map((m) => m[1]!);
    expect(roleVars.length).toBeGreaterThanOrEqual(8);
    // Every role-id variable is preceded by a comment (one comment line may cover a pair, e.g. Sender/Receiver).
    for (const v of roleVars) expect(raw).toMatch(new RegExp(`//[^\\n]*\\n(?:var \\w+ = '[0-9a-f-]{36}'\\n)?var ${v} = `));
    const assignments = [...rbac.matchAll(/resource \w+ 'Microsoft\.Authorization\/roleAssignments@[^']+' = \{/g)];
    expect(assignments.length).toBeGreaterThanOrEqual(roleVars.length);
    for (const a of assignments) {
      const { body } = balancedBlock(rbac, a.index + a[0].length - 1);
      const name = /name: guid\((\w+)\.id, (\w+), (\w+)\)/.exec(body);
      expect(name).not.toBeNull();
      expect(body).toContain(`scope: ${name![1]}`);
      expect(body).toContain(`principalId: ${name![2]}`);
      expect(body).toContain(`roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', ${name![3]})`);
      expect(roleVars).toContain(name![3]);
    }
  });

  it('grants the roles the issue asks for', () => {
    const rbac = readBicep('app/rbac.bicep');
    const ids = {
      'Storage Blob Data Contributor': 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
      'Storage Table Data Contributor': '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
      'Storage Queue Data Contributor': '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
      'Azure Service Bus Data Sender': '69a216fc-b8fb-44d8-bc22-1f3c2552ae39',
      'Azure Service Bus Data Receiver': '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0',
      'Key Vault Secrets User': '4633458b-17de-408a-b874-0445c86b69e6',
      'Monitoring Metrics Publisher': '3913510d-42f4-4e42-8a64-420c390055eb',
    };
    for (const [role, id] of Object.entries(ids)) expect({ role, present: rbac.includes(`'${id}'`) }).toEqual({ role, present: true });
  });

  it('runs the Function App on Flex Consumption with its user-assigned identity for deployment and Key Vault', () => {
    const fn = readBicep('app/functionapp.bicep');
    expect(fn).toContain("type: 'UserAssigned'");
    expect(fn).toContain('keyVaultReferenceIdentity: identityId');
    expect(fn).toMatch(/type: 'blobContainer'[\s\S]*type: 'UserAssignedIdentity'/);
    expect(fn).toMatch(/runtime: \{\s*name: 'node'/);
    expect(fn).toContain("'azd-service-name': serviceName");
  });

  it('deploys the workbook from infra/workbooks/runs.workbook.json with runs, ingestion, queues and alerts views', () => {
    expect(loadCalls(main)).toContainEqual({ fn: 'loadTextContent', path: 'workbooks/runs.workbook.json' });
    const wb = JSON.parse(readFileSync(join(INFRA_DIR, 'workbooks/runs.workbook.json'), 'utf8')) as { version: string; items: { name: string }[] };
    expect(wb.version).toBe('Notebook/1.0');
    expect(wb.items.map((i) => i.name)).toEqual(expect.arrayContaining(['runs-group', 'ingestion-group', 'queues-group', 'alerts-group']));
  });
});

describe('azd and the user workflow', () => {
  const azure = parse(readFileSync(join(REPO_ROOT, 'azure.yaml'), 'utf8')) as {
    services: Record<string, Record<string, string>>;
    infra: Record<string, string>;
    hooks: { postdeploy: Record<string, { run: string }>; prepackage?: Record<string, { run: string }> };
  };

  it('declares one function service (the staged app), named like the azd-service-name tag', () => {
    const services = Object.entries(azure.services);
    expect(services).toHaveLength(1);
    // azd deploys what scripts/pack-functions.sh stages (compiled app + its production node_modules only).
    expect(services[0]![1]).toMatchObject({ language: 'js', host: 'function', project: './.orbiter/functions-app' });
    expect(JSON.stringify(azure.hooks.prepackage)).toContain('scripts/pack-functions.sh');
    expect(services[0]![0]).toBe(stringLiteral(varText(main, 'serviceName')));
    expect(azure.infra).toMatchObject({ provider: 'bicep', path: 'infra', module: 'main' });
  });

  it('runs postdeploy hooks that exist', () => {
    for (const os of ['posix', 'windows']) expect(existsSync(join(REPO_ROOT, azure.hooks.postdeploy[os]!.run))).toBe(true);
  });

  it('feeds the scripts only environment values that main.bicep outputs (or azd itself sets)', () => {
    const azdOwn = ['AZURE_ENV_NAME', 'AZURE_SUBSCRIPTION_ID', 'AZURE_PRINCIPAL_ID'];
    const out = outputs(main);
    for (const script of ['scripts/postdeploy.sh', 'scripts/register-databricks-sp.sh']) {
      const text = readFileSync(join(INFRA_DIR, script), 'utf8');
      const used = new Set([...text.matchAll(/\$\{((?:AZURE|ORBITER|DATABRICKS|FUNCTION|EVENT|SERVICE|KEY)_[A-Z0-9_]+)[:}]/g)].map((m) => m[1]!));
      const optionalInputs = [...used].filter((n) => /^ORBITER_(SKIP|JOBS|COMPLETION)_|^DATABRICKS_AUTH_TYPE$/.test(n));
      const missing = [...used].filter((n) => !out.includes(n) && !azdOwn.includes(n) && !optionalInputs.includes(n));
      expect({ script, missing }).toEqual({ script, missing: [] });
    }
  });

  it('builds, tests, compiles Bicep, validates and deploys the bundle in the GitHub workflow', () => {
    const text = readFileSync(join(REPO_ROOT, '.github/workflows/deploy.yml'), 'utf8');
    const wf = parse(text) as { jobs: Record<string, { steps: { run?: string }[] }> };
    const runs = Object.values(wf.jobs).flatMap((j) => j.steps.map((s) => s.run ?? ''));
    for (const cmd of ['npm ci', 'npm test', 'az bicep build', 'databricks bundle validate', 'azd deploy', 'databricks bundle deploy']) {
      expect({ cmd, found: runs.some((r) => r.includes(cmd)) }).toEqual({ cmd, found: true });
    }
  });
});

/** Role assignments of rbac.bicep: symbol, scope symbol, principal parameter, role variable. */
function roleAssignments(): { symbol: string; scope: string; principal: string; role: string }[] {
  const rbac = readBicep('app/rbac.bicep');
  return [...rbac.matchAll(/resource (\w+) 'Microsoft\.Authorization\/roleAssignments@[^']+' = \{/g)].map((a) => {
    const { body } = balancedBlock(rbac, a.index + a[0].length - 1);
    const m = /name: guid\((\w+)\.id, (\w+), (\w+)\)/.exec(body)!;
    return { symbol: a[1]!, scope: m[1]!, principal: m[2]!, role: m[3]! };
  });
}

describe('storage roles scoped to containers (issue 16)', () => {
  const rbac = readBicep('app/rbac.bicep');
  const assignments = roleAssignments();
  const blobRoles = ['storageBlobDataContributor', 'storageBlobDataOwner', 'storageBlobDataReader'];
  const blobScopes = (principal: string, role: string): string[] =>
    assignments
      .filter((a) => a.principal === principal && a.role === role)
      .map((a) => a.scope)
      .sort();

  it('names the zone containers in main.bicep as the code does, and scopes each container symbol to its zone', () => {
    const zones = objectEntries(varText(main, 'zoneContainers').slice(1, -1));
    expect(Object.fromEntries([...zones].map(([k, v]) => [k, stringLiteral(v)]))).toEqual(Containers);
    expect(balancedBlock(main, main.indexOf('module rbac')).body).toMatch(/zoneContainers: zoneContainers/);
    for (const zone of Object.keys(Containers)) {
      expect(rbac).toMatch(
        new RegExp(
          `resource ${zone}Container 'Microsoft\\.Storage/storageAccounts/blobServices/containers@[^']+' existing = \\{\\s*parent: lakeBlobService\\s*name: zoneContainers\\.${zone}\\s*\\}`,
        ),
      );
    }
  });

  it('gives no identity a blob data role on the whole lake account', () => {
    const onAccount = assignments.filter((a) => a.scope === 'lake' && blobRoles.includes(a.role));
    expect(onAccount).toEqual([]);
  });

  it('lets the Function App write raw, quarantine and events only (never the Databricks zones)', () => {
    expect(blobScopes('functionPrincipalId', 'storageBlobDataContributor').filter((s) => s !== 'hostStorage')).toEqual([
      'eventsContainer',
      'quarantineContainer',
      'rawContainer',
    ]);
    expect(blobScopes('functionPrincipalId', 'storageBlobDataReader')).toEqual([]);
  });

  it('lets the Databricks access connector read raw and events, and write only the zones it owns', () => {
    expect(blobScopes('accessConnectorPrincipalId', 'storageBlobDataReader')).toEqual(['eventsContainer', 'rawContainer']);
    expect(blobScopes('accessConnectorPrincipalId', 'storageBlobDataContributor')).toEqual(
      ['bronzeContainer', 'checkpointsContainer', 'goldContainer', 'quarantineContainer', 'silverContainer'].sort(),
    );
    expect(blobScopes('accessConnectorPrincipalId', 'storageBlobDataOwner')).toEqual([]);
  });
});

describe('private-network option (issue 16)', () => {
  const mod = (symbol: string) => modules.find((m) => m.symbol === symbol)!;

  it('is a bool parameter, off by default, handed to every module it changes', () => {
    expect(main).toMatch(/^param privateNetworking bool = false$/m);
    for (const symbol of ['lake', 'hostStorage', 'serviceBus', 'keyVault'])
      expect(mod(symbol).params.get('privateNetworking')).toBe('privateNetworking');
    expect(mod('network').conditional).toBe(true);
    expect(main).toMatch(/^module network 'app\/network\.bicep' = if \(privateNetworking\) \{/m);
    expect(main).toMatch(
      /^module privateEndpoints 'app\/private-endpoint\.bicep' = \[\s*for pe in privateEndpointTargets: if \(privateNetworking\) \{/m,
    );
  });

  it('puts a private endpoint, registered in its private DNS zone, on the lake (blob, dfs, table, queue), host storage (blob, table, queue), Service Bus and Key Vault', () => {
    const targets = [...varText(main, 'privateEndpointTargets').matchAll(/\{ key: '[^']+', target: (\w+)\.outputs\.id, groupId: '(\w+)' \}/g)].map(
      (m) => `${m[1]}:${m[2]}`,
    );
    expect(targets.sort()).toEqual(
      [
        'lake:blob',
        'lake:dfs',
        'lake:table',
        'lake:queue',
        'hostStorage:blob',
        'hostStorage:table',
        'hostStorage:queue',
        'serviceBus:namespace',
        'keyVault:vault',
      ].sort(),
    );
    const pe = mod('privateEndpoints');
    expect(pe.params.get('dnsZoneId')).toBe('network.outputs.dnsZoneIds[pe.groupId]');
    expect(pe.params.get('subnetId')).toBe('network.outputs.privateEndpointSubnetId');
    const endpoint = readBicep('app/private-endpoint.bicep');
    expect(endpoint).toMatch(/privateDnsZoneGroups@/);
    const network = readBicep('app/network.bicep');
    const zoneIds = objectEntries(balancedBlock(network, network.indexOf('output dnsZoneIds object =')).body);
    for (const group of ['blob', 'dfs', 'table', 'queue', 'namespace', 'vault']) expect(zoneIds.has(group)).toBe(true);
    for (const zone of [
      'privatelink.blob.',
      'privatelink.dfs.',
      'privatelink.table.',
      'privatelink.queue.',
      'privatelink.servicebus.windows.net',
      'privatelink.vaultcore.azure.net',
    ])
      expect(network).toContain(zone);
    expect(network).toMatch(/virtualNetworkLinks@/);
  });

  it('turns public network access off (the lake: firewall Deny with the trusted-service and access-connector exceptions)', () => {
    for (const file of ['app/host-storage.bicep', 'app/servicebus.bicep', 'app/keyvault.bicep'])
      expect({ file, off: /publicNetworkAccess: privateNetworking \? 'Disabled' : 'Enabled'/.test(readBicep(file)) }).toEqual({ file, off: true });
    const lake = readBicep('app/lake.bicep');
    expect(lake).toMatch(/defaultAction: privateNetworking \? 'Deny' : 'Allow'/);
    expect(lake).toMatch(/bypass: 'AzureServices'/);
    expect(lake).toMatch(/resourceAccessRules: privateNetworking/);
    expect(mod('lake').params.get('accessConnectorId')).toBe('databricks.outputs.accessConnectorId');
    // Private endpoints on Service Bus need the Premium tier.
    expect(mod('serviceBus').params.get('skuName')).toBe("privateNetworking ? 'Premium' : 'Standard'");
  });

  it('integrates the Function App with the VNet through a subnet delegated to Flex Consumption', () => {
    expect(mod('functionApp').params.get('virtualNetworkSubnetId')).toBe("privateNetworking ? network.outputs.appSubnetId : ''");
    expect(readBicep('app/functionapp.bicep')).toMatch(/virtualNetworkSubnetId: empty\(virtualNetworkSubnetId\) \? null : virtualNetworkSubnetId/);
    expect(readBicep('app/network.bicep')).toMatch(/serviceName: 'Microsoft\.App\/environments'/);
  });
});

describe('diagnostic settings on every resource (issue 16)', () => {
  /** Resource types that have diagnostic categories: each declared one must send them to Log Analytics. */
  const DIAGNOSABLE = new Set([
    'Microsoft.Storage/storageAccounts',
    'Microsoft.Storage/storageAccounts/blobServices',
    'Microsoft.Storage/storageAccounts/tableServices',
    'Microsoft.Storage/storageAccounts/queueServices',
    'Microsoft.ServiceBus/namespaces',
    'Microsoft.KeyVault/vaults',
    'Microsoft.Web/serverfarms',
    'Microsoft.Web/sites',
    'Microsoft.EventGrid/systemTopics',
    'Microsoft.Databricks/workspaces',
    'Microsoft.OperationalInsights/workspaces',
    'Microsoft.Insights/components',
    'Microsoft.Network/virtualNetworks',
    'Microsoft.Network/networkSecurityGroups',
  ]);
  /** Every other declared type, with why it has no setting of its own: a new type must be classified here. */
  const COVERED_ELSEWHERE: Record<string, string> = {
    'Microsoft.Authorization/roleAssignments': 'no diagnostic categories (the activity log records changes)',
    'Microsoft.Insights/diagnosticSettings': 'the settings themselves',
    'Microsoft.Resources/resourceGroups': 'activity log',
    'Microsoft.ManagedIdentity/userAssignedIdentities': 'no diagnostic categories (sign-ins are in Entra ID logs)',
    'Microsoft.Databricks/accessConnectors': 'no diagnostic categories (its storage access is in the lake logs)',
    'Microsoft.Network/privateDnsZones': 'no diagnostic logs',
    'Microsoft.Network/privateDnsZones/virtualNetworkLinks': 'no diagnostic categories',
    'Microsoft.Network/privateEndpoints': 'no log categories; the traffic shows in the target resource logs',
    'Microsoft.Network/privateEndpoints/privateDnsZoneGroups': 'no diagnostic categories',
    'Microsoft.EventGrid/systemTopics/eventSubscriptions': 'covered by the system topic settings',
    'Microsoft.ServiceBus/namespaces/queues': 'covered by the namespace settings',
    'Microsoft.ServiceBus/namespaces/topics': 'covered by the namespace settings',
    'Microsoft.ServiceBus/namespaces/topics/subscriptions': 'covered by the namespace settings',
    'Microsoft.Storage/storageAccounts/blobServices/containers': 'covered by the blob service settings',
    'Microsoft.Storage/storageAccounts/tableServices/tables': 'covered by the table service settings',
    'Microsoft.Storage/storageAccounts/managementPolicies': 'covered by the blob service settings',
    'Microsoft.KeyVault/vaults/secrets': 'covered by the vault settings (AuditEvent)',
    'Microsoft.Web/sites/config': 'covered by the site settings',
    'Microsoft.Web/sites/basicPublishingCredentialsPolicies': 'covered by the site settings',
    'Microsoft.Insights/actionGroups': 'no diagnostic categories (alert firings are in the activity log)',
    'Microsoft.Insights/scheduledQueryRules': 'no diagnostic categories (alert firings are in the activity log)',
    'Microsoft.Insights/metricAlerts': 'no diagnostic categories (alert firings are in the activity log)',
    'Microsoft.Insights/workbooks': 'no diagnostic categories',
  };
  const files = ['main.bicep', ...readdirSync(join(INFRA_DIR, 'app')).map((f) => `app/${f}`)].filter((f) => f.endsWith('.bicep'));
  const declared = files.flatMap((file) => {
    const text = readBicep(file);
    return [...text.matchAll(/^resource (\w+) '([^@']+)@[^']+'\s*(existing\s*)?=/gm)]
      .filter((m) => !m[3])
      .map((m) => ({ file, symbol: m[1]!, type: m[2]!, text }));
  });

  it('classifies every declared resource type', () => {
    for (const d of declared)
      expect({ type: d.type, classified: DIAGNOSABLE.has(d.type) || d.type in COVERED_ELSEWHERE }).toEqual({ type: d.type, classified: true });
  });

  it('sends the logs and metrics of every diagnosable resource to Log Analytics', () => {
    const diagnosable = declared.filter((d) => DIAGNOSABLE.has(d.type));
    expect(diagnosable.length).toBeGreaterThanOrEqual(16);
    for (const d of diagnosable) {
      const settings = [...d.text.matchAll(/^resource \w+ 'Microsoft\.Insights\/diagnosticSettings@[^']+' = (?:if \([^)]*\) )?\{/gm)]
        .map((m) => balancedBlock(d.text, m.index + m[0].length - 1).body)
        .filter((body) => new RegExp(`\\bscope: ${d.symbol}\\b`).test(body));
      expect({ resource: `${d.file}:${d.symbol}`, settings: settings.length }).toEqual({ resource: `${d.file}:${d.symbol}`, settings: 1 });
      expect(settings[0]).toMatch(/workspaceId: (logAnalyticsWorkspaceId|logAnalytics\.id)/);
      expect(settings[0]).toMatch(/categoryGroup: 'allLogs'|category: '(AllMetrics|Transaction)'/);
    }
  });

  it('hands the Log Analytics workspace to every module with diagnostic settings', () => {
    for (const m of modules) {
      const text = readBicep(m.path);
      if (!/param logAnalyticsWorkspaceId string/.test(text)) continue;
      expect({ module: m.symbol, passed: m.params.get('logAnalyticsWorkspaceId') }).toEqual({
        module: m.symbol,
        passed: 'monitoring.outputs.logAnalyticsWorkspaceId',
      });
    }
  });
});
