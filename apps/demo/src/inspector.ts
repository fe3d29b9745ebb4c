/**
 * The wire inspector's memory: a ring of the last N requests, each with what every layer reported
 * about it. The demo only records: the bytes and parser events come from the wire tap (the real
 * `@strata/http-parser` run over the bytes as received), the match from the router, the status and
 * headers from the response writer.
 */
import type { InspectEntry } from './pages';
import type { WireMessage } from './wire-tap';

/** What the log reads of a response writer: its serialised head (null until sent). */
export interface HeadSource {
  readonly head: string | null;
}

export class InspectorLog {
  private readonly ring: { entry: InspectEntry; wire: WireMessage | null; res: HeadSource | null }[] = [];
  private nextId = 1;
  /** Called whenever an entry is opened or finished (the demo tells open inspector pages). */
  onChange: (() => void) | null = null;
  constructor(readonly capacity = 20) {}

  /**
   * Starts a record and returns it; the caller fills fields as layers report. `wire` keeps
   * growing while the body arrives, and `res` (the response writer) sends its head at some point:
   * the entry is refreshed from both whenever it is shown, so a streaming route's head appears as
   * soon as it is on the wire. The writer is dropped once its head is taken (or by {@link done}).
   */
  open(
    init: Omit<InspectEntry, 'id'>,
    wire: WireMessage | null,
    res: HeadSource | null = null,
  ): InspectEntry {
    const entry: InspectEntry = { id: this.nextId++, ...init };
    this.ring.unshift({ entry, wire, res });
    if (this.ring.length > this.capacity) this.ring.pop();
    this.onChange?.();
    return entry;
  }

  /** The route has answered: takes the head from the writer (if sent) and lets the writer go. */
  done(entry: InspectEntry): void {
    for (const item of this.ring)
      if (item.entry === entry) {
        if (item.res !== null) entry.responseHead = item.res.head;
        item.res = null;
        this.onChange?.();
        return;
      }
  }

  /** Newest first, each refreshed from its wire record and its writer. */
  entries(): InspectEntry[] {
    return this.ring.map((item) => {
      const { entry, wire, res } = item;
      if (res !== null && res.head !== null) {
        entry.responseHead = res.head;
        item.res = null; // the head never changes once sent
      }
      if (wire !== null) {
        entry.received = wire.received;
        entry.receivedBytes = wire.size;
        entry.unobserved = null;
        entry.parserEvents = wire.events;
        entry.framing = wire.framing;
      }
      return entry;
    });
  }
}
