/**
 * Trust-proxy policy: which peers may tell us the real client address, scheme and host through
 * `Forwarded` (RFC 7239) or `X-Forwarded-For` / `-Proto` / `-Host`. Nothing is trusted by default,
 * so a client cannot spoof its address by sending those headers itself.
 *
 * Walk: start at the connection's peer. While the current hop is trusted, step one entry to the
 * left in the forwarding chain (rightmost entry = added by the nearest proxy). The first untrusted
 * hop (or the leftmost entry) is the client.
 */

/**
 * `string[]`: exact addresses (IPv4, IPv6, `'loopback'` for 127.0.0.0/8 and ::1, `'*'` for all).
 * A function: decides per hop address.
 */
export type TrustProxy = readonly string[] | ((address: string) => boolean);

/** What the policy concluded for one request. */
export interface ForwardedInfo {
  ip: string;
  protocol: 'http' | 'https';
  host: string | null;
}

interface HeadLike {
  readonly remoteAddress: string;
  readonly encrypted: boolean;
  readonly host: string | null;
  header(name: string): string | undefined;
  headerAll(name: string): string[];
}

function stripV4Mapped(a: string): string {
  return a.startsWith('::ffff:') && a.indexOf('.') !== -1 ? a.slice(7) : a;
}

function isLoopback(a: string): boolean {
  return a === '::1' || a.startsWith('127.');
}

/** Turn the user's option into one predicate. */
export function compileTrust(trust: TrustProxy | undefined): ((address: string) => boolean) | null {
  if (trust === undefined) return null;
  if (typeof trust === 'function') return (a) => trust(stripV4Mapped(a));
  if (trust.length === 0) return null;
  const set = new Set(trust.map(stripV4Mapped));
  const all = set.has('*');
  const loop = set.has('loopback');
  return (a) => {
    const x = stripV4Mapped(a);
    return all || set.has(x) || (loop && isLoopback(x));
  };
}

/** Parse a `for=` node (RFC 7239 §6): `"[2001:db8::1]:80"`, `1.2.3.4:5`, `_hidden`, `unknown`. */
function nodeAddress(v: string): string {
  if (v.charCodeAt(0) === 91 /* '[' */) {
    const end = v.indexOf(']');
    return end === -1 ? v : v.slice(1, end);
  }
  const colon = v.indexOf(':');
  // IPv4 with port; a bare IPv6 without brackets is not valid in Forwarded, keep it whole.
  return colon !== -1 && v.indexOf(':', colon + 1) === -1 ? v.slice(0, colon) : v;
}

function unquote(v: string): string {
  v = v.trim();
  if (v.length >= 2 && v.charCodeAt(0) === 34 /* '"' */ && v.charCodeAt(v.length - 1) === 34) {
    return v.slice(1, -1).replace(/\\(.)/g, '$1');
  }
  return v;
}

interface ForwardedElement {
  for?: string;
  proto?: string;
  host?: string;
}

/** Split `Forwarded` values into elements (commas outside quotes), pairs (`;`), `key=value`. */
export function parseForwarded(values: string[]): ForwardedElement[] {
  const out: ForwardedElement[] = [];
  for (const value of values) {
    let el: ForwardedElement = {};
    let start = 0;
    let quoted = false;
    for (let i = 0; i <= value.length; i++) {
      const c = i < value.length ? value.charCodeAt(i) : 44; /* ',' at the end */
      if (c === 34 /* '"' */) quoted = !quoted;
      else if (c === 92 /* '\\' */ && quoted) i++;
      else if (!quoted && (c === 59 /* ';' */ || c === 44) /* ',' */) {
        const pair = value.slice(start, i);
        const eq = pair.indexOf('=');
        if (eq > 0) {
          const key = pair.slice(0, eq).trim().toLowerCase();
          const val = unquote(pair.slice(eq + 1));
          if (key === 'for' || key === 'proto' || key === 'host') el[key] = val;
        }
        start = i + 1;
        if (c === 44) {
          out.push(el);
          el = {};
        }
      }
    }
  }
  return out;
}

/** Apply the policy to one request. */
export function resolveForwarded(req: HeadLike, trust: ((a: string) => boolean) | null): ForwardedInfo {
  const direct: ForwardedInfo = {
    ip: stripV4Mapped(req.remoteAddress),
    protocol: req.encrypted ? 'https' : 'http',
    host: req.host,
  };
  if (trust === null || !trust(req.remoteAddress)) return direct;

  const forwarded = req.headerAll('forwarded');
  if (forwarded.length > 0) {
    const els = parseForwarded(forwarded);
    let pick: ForwardedElement | null = null;
    for (let i = els.length - 1; i >= 0; i--) {
      const el = els[i]!;
      if (el.for === undefined) break;
      pick = el;
      if (!trust(nodeAddress(el.for))) break;
    }
    if (pick === null || pick.for === undefined) return direct;
    const proto = pick.proto?.toLowerCase();
    return {
      ip: nodeAddress(pick.for),
      protocol: proto === 'https' ? 'https' : proto === 'http' ? 'http' : direct.protocol,
      host: pick.host ?? direct.host,
    };
  }

  const xff = req.headerAll('x-forwarded-for');
  if (xff.length === 0) return direct;
  const hops = xff.join(',').split(',');
  let ip = direct.ip;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!.trim();
    if (hop === '') break;
    ip = stripV4Mapped(hop);
    if (!trust(hop)) break;
  }
  const xfp = lastToken(req.header('x-forwarded-proto'));
  const xfh = lastToken(req.header('x-forwarded-host'));
  return {
    ip,
    protocol: xfp === 'https' ? 'https' : xfp === 'http' ? 'http' : direct.protocol,
    host: xfh ?? direct.host,
  };
}

/** The value the nearest proxy appended (rightmost of a comma list). */
function lastToken(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const comma = v.lastIndexOf(',');
  const t = (comma === -1 ? v : v.slice(comma + 1)).trim().toLowerCase();
  return t === '' ? undefined : t;
}
