/**
 * Which Upgrade requests the server hands to `onUpgrade`: the one rule, used by the engine and
 * exported for tools that mirror the server's view of a connection (the demo's wire inspector).
 */

/**
 * Whether the `Upgrade` field of `rawHeaders` offers a protocol in `accepted` (lower-case names
 * without versions); `accepted` null: any protocol but `h2c` (this server does not speak HTTP/2).
 * @internal
 */
export function offersAccepted(rawHeaders: string[], accepted: ReadonlySet<string> | null): boolean {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length !== 7 || name.toLowerCase() !== 'upgrade') continue;
    const parts = rawHeaders[i + 1]!.split(',');
    for (let j = 0; j < parts.length; j++) {
      const p = parts[j]!.trim();
      const slash = p.indexOf('/'); // '/': a protocol version follows
      const n = (slash === -1 ? p : p.slice(0, slash)).toLowerCase();
      if (n !== '' && (accepted === null ? n !== 'h2c' : accepted.has(n))) return true;
    }
  }
  return false;
}

/**
 * Whether a server with these `upgradeProtocols` (see `ServerOptions.upgradeProtocols`; undefined:
 * the default) hands an Upgrade or CONNECT head to its `onUpgrade`, rather than serving it as
 * HTTP/1.1 (RFC 9110 section 7.8). CONNECT always goes to `onUpgrade`.
 *
 * @example
 * ```ts
 * acceptsUpgrade({ method: 'GET', rawHeaders: ['Upgrade', 'h2c'] }); // false: served as HTTP/1.1
 * acceptsUpgrade({ method: 'GET', rawHeaders: ['Upgrade', 'websocket'] }, ['websocket']); // true
 * ```
 */
export function acceptsUpgrade(
  head: { readonly method: string; readonly rawHeaders: string[] },
  upgradeProtocols?: readonly string[],
): boolean {
  if (head.method === 'CONNECT') return true;
  return offersAccepted(head.rawHeaders, upgradeSet(upgradeProtocols));
}

/** `upgradeProtocols` as the engine keeps it: lower-case names, or null for the default. @internal */
export function upgradeSet(upgradeProtocols: readonly string[] | undefined): ReadonlySet<string> | null {
  return upgradeProtocols === undefined ? null : new Set(upgradeProtocols.map((p) => p.toLowerCase()));
}
