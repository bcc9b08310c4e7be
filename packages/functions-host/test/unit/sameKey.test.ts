/** The host's function-key check: compared with timingSafeEqual over digests (issue 16 item 8). */
import { sameKey } from '../../src/functionHost';

describe('sameKey', () => {
  it('accepts only the exact key: not a prefix, a longer string, another case, or an empty key', () => {
    const key = 'k'.repeat(20) + 'Secret';
    expect(sameKey(key, key)).toBe(true);
    for (const wrong of [key.slice(0, -1), `${key}x`, key.toUpperCase(), '', 'x']) expect(sameKey(wrong, key)).toBe(false);
    expect(sameKey('', '')).toBe(false); // an unset key never matches an absent one
  });
});
