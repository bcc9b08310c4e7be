/**
 * NeoWs and APOD echo the caller's api_key inside returned URLs; nothing we land or log may carry it.
 */
export const REDACTED = 'REDACTED';

export function redactSecrets(text: string, apiKey?: string): string {
  let out = text.replace(/([?&]api_key=)[^&"'\s\\<>]+/gi, `$1${REDACTED}`);
  if (apiKey && apiKey.length >= 4) out = out.split(apiKey).join(REDACTED);
  return out;
}
