import { redactSecrets } from '../redact';

export function redactBody(body: Buffer, apiKey: string): Buffer {
  const text = body.toString('utf8');
  const clean = redactSecrets(text, apiKey);
  return clean === text ? body : Buffer.from(clean, 'utf8');
}
