import { describe, expect, it } from 'vitest';
import { countPrimes } from '../src/primes';

describe('countPrimes', () => {
  it('matches the known prime-counting function pi(x)', () => {
    const known: [number, number][] = [
      [-5, 0],
      [0, 0],
      [1, 0],
      [2, 1],
      [3, 2],
      [10, 4],
      [100, 25],
      [1000, 168],
      [10_000, 1229],
      [100_000, 9592],
      [1_000_000, 78498],
    ];
    for (const [n, pi] of known) expect(countPrimes(n), `pi(${n})`).toBe(pi);
  });

  it('agrees with a sieve on every n up to 2000', () => {
    const sieve = new Uint8Array(2001).fill(1);
    sieve[0] = sieve[1] = 0;
    for (let i = 2; i * i <= 2000; i++) if (sieve[i]) for (let j = i * i; j <= 2000; j += i) sieve[j] = 0;
    let count = 0;
    for (let n = 0; n <= 2000; n++) {
      count += sieve[n]!;
      expect(countPrimes(n)).toBe(count);
    }
  });
});
