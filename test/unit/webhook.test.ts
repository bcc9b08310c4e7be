import { jobNotification } from '../../functions/databricksWebhook';

describe('Databricks job notification payload', () => {
  it('accepts the real shape, whose ids are strings', () => {
    const n = jobNotification.parse({
      event_type: 'jobs.on_success',
      workspace_id: '123',
      run: { run_id: '1001' },
      job: { job_id: '7', name: 'orbiter-apod-pipeline' },
    });
    expect(n.run.run_id).toBe(1001);
  });
  it('rejects payloads without a usable run id, naming the field', () => {
    const r = jobNotification.safeParse({ event_type: 'jobs.on_success', run: { run_id: '../x' } });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['run', 'run_id']);
  });
});
