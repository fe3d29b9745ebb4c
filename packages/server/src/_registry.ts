/**
 * What the registry holds: one open connection's engine state (HTTP/1.1 `RegisteredConn` or the HTTP/2
 * session), linked through its own fields. @internal
 */
export interface RegisteredConn {
  regPrev: RegisteredConn | null;
  regNext: RegisteredConn | null;
  /** Every deadline of this connection, at `now`. */
  sweep(now: number): void;
  /** Graceful shutdown: finish what is in flight, accept nothing new. */
  shutdown(): void;
}

/**
 * The open connections of one server, for its sweep and shutdown: an intrusive doubly linked list
 * through the states themselves. Not a Set: V8 rebuilds a Set's table every few dozen adds and
 * deletes and links each replaced table to its successor, so under short connections every table
 * survived the scavenge and was promoted. @internal
 */
export class ConnRegistry {
  first: RegisteredConn | null = null;
  size = 0;

  /** Whether `s` is in the list: it has a predecessor, or it is the first. */
  has(s: RegisteredConn): boolean {
    return s.regPrev !== null || this.first === s;
  }

  add(s: RegisteredConn): void {
    if (this.has(s)) return;
    const first = this.first;
    if (first !== null) first.regPrev = s;
    s.regNext = first;
    s.regPrev = null;
    this.first = s;
    this.size++;
  }

  delete(s: RegisteredConn): void {
    if (!this.has(s)) return;
    const prev = s.regPrev;
    const next = s.regNext;
    if (prev !== null) prev.regNext = next;
    else this.first = next;
    if (next !== null) next.regPrev = prev;
    s.regPrev = s.regNext = null;
    this.size--;
  }

  /** A copy of the members (safe to iterate while they leave). */
  toArray(): RegisteredConn[] {
    const out: RegisteredConn[] = [];
    for (let s = this.first; s !== null; s = s.regNext) out.push(s);
    return out;
  }
}

/** Server-wide counters, updated by every connection. @internal */
export class Counters {
  requests = 0;
  responses = 0;
  /** Requests whose client went away (reset, close, or FIN) before their response was complete. */
  aborted = 0;
  /** Connections cut by a timeout: headers or request (408), send, drain, or a close nobody read. */
  timedOut = 0;
  /** Requests refused for a limit or bad syntax (parse errors, 413, 431, 414, a bad JSON body). */
  rejected = 0;
  /** Responses per status code (index = status). */
  readonly byStatus = new Float64Array(600);
  responded(status: number): void {
    this.responses++;
    if (status > 0 && status < 600) this.byStatus[status]!++;
  }
}
