import { isOwnHost, isOwnOrigin } from '../../../shared/http/hostCheck';

describe('dashboard Host and Origin checks (DNS rebinding)', () => {
  it('accepts loopback names on its own port, or without a port', () => {
    for (const h of ['127.0.0.1:7072', 'localhost:7072', 'LOCALHOST', '[::1]:7072', '127.0.0.1']) expect(isOwnHost(h, 7072)).toBe(true);
  });

  it('refuses other names, other ports, missing or malformed headers', () => {
    for (const h of ['evil.example', 'evil.example:7072', '127.0.0.1:80', '127.0.0.1.evil.example', 'localhost:7072:1', '', undefined])
      expect(isOwnHost(h, 7072)).toBe(false);
  });

  it('accepts the host it was bound to', () => {
    expect(isOwnHost('devbox:7072', 7072, 'devbox')).toBe(true);
    expect(isOwnHost('devbox:7072', 7072)).toBe(false);
  });

  it('refuses cross-site origins; no Origin (a same-origin GET or curl) passes', () => {
    expect(isOwnOrigin(undefined, 7072)).toBe(true);
    expect(isOwnOrigin('http://127.0.0.1:7072', 7072)).toBe(true);
    expect(isOwnOrigin('http://evil.example', 7072)).toBe(false);
    expect(isOwnOrigin('null', 7072)).toBe(false);
  });
});
