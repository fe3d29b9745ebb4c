/**
 * The CPU-heavy job behind `/compute?n=`: count the primes <= n by trial division over odd
 * divisors. Deliberately the slow, obvious algorithm (the tutorial's threads chapter needs work that
 * keeps a core busy for a while), and exact: tested against known prime counts.
 */
export function countPrimes(n: number): number {
  if (n < 2) return 0;
  let count = 1; // 2
  for (let k = 3; k <= n; k += 2) {
    let prime = true;
    for (let d = 3; d * d <= k; d += 2) {
      if (k % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return count;
}
