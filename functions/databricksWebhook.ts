import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { z } from 'zod';
import { isOrbiterError } from '../shared/errors';
import { readLimited } from '../shared/http/limitedBody';
import { onJobNotification } from '../shared/dispatch/notifications';
import { contextLogger } from '../shared/logger';
import type { HttpFunction } from './definition';
import type { RunControlDeps } from './runControl';

export type DatabricksWebhookDeps = RunControlDeps;

/** A notification is a few hundred bytes; anything past this is refused while it is being read. */
const maxNotificationBytes = 64 * 1024;

/** Databricks job notification payload (webhook destination; ids arrive as strings): only the run id is used. */
const numericId = z.union([
  z.number().int().positive(),
  z
    .string()
    .regex(/^\d{1,18}$/)
    .transform(Number),
]);
export const jobNotification = z.looseObject({
  event_type: z.string().regex(/^jobs\.[a-z_]+$/),
  run: z.looseObject({ run_id: numericId }),
  job: z.looseObject({ job_id: numericId.optional(), name: z.string().optional() }).optional(),
});

const titles: Record<number, string> = { 413: 'Content Too Large', 415: 'Unsupported Media Type' };

const problem = (status: number, detail: string): HttpResponseInit => ({
  status,
  headers: { 'content-type': 'application/problem+json' },
  jsonBody: { type: 'about:blank', title: titles[status] ?? 'Bad Request', status, detail },
});

/** HTTP: Databricks job notifications short-cut the polling wait for a run's terminal state. */
export const makeDatabricksWebhook =
  (deps: DatabricksWebhookDeps) =>
  async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    if (!(request.headers.get('content-type') ?? '').includes('application/json')) return problem(415, 'expected application/json');
    let text: string;
    try {
      text = (await readLimited(request.body, maxNotificationBytes, request.headers.get('content-length'))).toString('utf8');
    } catch (err) {
      if (isOrbiterError(err, 'BodyTooLarge')) return problem(413, 'notification too large');
      throw err;
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return problem(400, 'body is not valid JSON');
    }
    const n = jobNotification.safeParse(body);
    if (!n.success) return problem(400, n.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    const logger = contextLogger(context);
    const outcome = await onJobNotification(n.data, await deps.dispatch(logger));
    logger.info('job notification', { outcome, databricksRunId: n.data.run.run_id, eventType: n.data.event_type });
    // Known or not, the same 202: Databricks would retry a refused notification, and the answer must not tell a
    // caller which run ids exist (the outcome is in the log).
    return { status: 202, jsonBody: { accepted: true } };
  };

export const databricksWebhook = (deps: DatabricksWebhookDeps): HttpFunction => ({
  kind: 'http',
  name: 'databricksWebhook',
  route: 'hooks/databricks-jobs',
  methods: ['POST'],
  authLevel: 'function',
  handler: makeDatabricksWebhook(deps),
});
