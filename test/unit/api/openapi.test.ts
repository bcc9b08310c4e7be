import { buildOpenApi } from '../../../shared/api/openapi';

describe('OpenAPI document', () => {
  const doc = buildOpenApi('http://127.0.0.1:7071') as {
    openapi: string;
    info: { title: string; version: string };
    paths: Record<string, Record<string, { operationId: string; responses: Record<string, unknown>; requestBody?: unknown }>>;
    components: { schemas: Record<string, Record<string, unknown>>; securitySchemes: Record<string, unknown> };
  };

  it('is OpenAPI 3.1 with every endpoint and unique operation ids', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/api/health',
      '/api/openapi.json',
      '/api/runs',
      '/api/runs/{id}',
      '/api/runs/{id}/cancel',
      '/api/runs/{id}/logs',
    ]);
    const ops = Object.values(doc.paths).flatMap((p) => Object.values(p).map((o) => o.operationId));
    expect(new Set(ops).size).toBe(ops.length);
    expect(doc.paths['/api/runs']!['post']!.responses).toHaveProperty('202');
    expect(doc.paths['/api/runs']!['post']!.responses).toHaveProperty('415');
  });

  it('every $ref resolves to a component, and components are plain JSON Schema 2020-12', () => {
    const text = JSON.stringify(doc);
    const refs = [...text.matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(5);
    for (const r of refs) {
      expect(r).toMatch(/^#\/components\/schemas\//);
      expect(doc.components.schemas).toHaveProperty(r.split('/').pop()!);
    }
    for (const s of Object.values(doc.components.schemas)) {
      expect(s).not.toHaveProperty('$schema');
      expect(s).not.toHaveProperty('$id');
    }
    // Generated from the zod request schema: strict, with the dataset enum and the path rule.
    const body = doc.components.schemas['CreateRunRequest']! as { additionalProperties: boolean; properties: Record<string, { enum?: string[] }> };
    expect(body.additionalProperties).toBe(false);
    expect(body.properties['dataset']!.enum).toContain('neows');
    expect(text).toContain('application/problem+json');
    // Runs expose their task graph; the logs endpoint answers RunLogs per task.
    const run = doc.components.schemas['Run']! as { properties: Record<string, { items?: { $ref?: string } }> };
    expect(run.properties['tasks']!.items!.$ref).toBe('#/components/schemas/RunTask');
    const task = doc.components.schemas['RunTask']! as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(task.properties)).toEqual(expect.arrayContaining(['taskKey', 'state', 'durationMs', 'rowsWritten', 'quarantined', 'output']));
    expect(task.required).toEqual(expect.arrayContaining(['taskKey', 'databricksRunId', 'state']));
    const logs = doc.paths['/api/runs/{id}/logs']!['get']!;
    expect(logs.operationId).toBe('getRunLogs');
    expect(JSON.stringify(logs.responses['200'])).toContain('#/components/schemas/RunLogs');
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['entra', 'functionKey', 'functionKeyQuery']);
  });
});
