/**
 * When the wire inspector records. Recording is not free (a second `data` listener and a second
 * parse of every byte, plus a log entry per request), so by default (`watch`) the demo records only
 * while someone looks: while at least one `/inspect` page holds its WebSocket (`/inspect/ws`) open,
 * and for a short grace period after a page was served, so the page's own WebSocket and the
 * request the reader makes next are caught. `on` records from start-up to exit; `off` never.
 */

import type { InspectorMode } from './args';

/** After `/inspect` is served, recording stays on this long even with no watcher yet. */
export const PAGE_GRACE_MS = 30_000;

/** The inspector's on/off switch. Read {@link on} per request; it is a plain field. */
export class Recording {
  /** Whether requests are recorded now. */
  on: boolean;
  /** Called on every change of {@link on} (the CLI starts and stops the socket observer here). */
  onChange: ((on: boolean) => void) | null = null;
  private watchers = 0;
  private grace: NodeJS.Timeout | null = null;

  constructor(
    readonly mode: InspectorMode,
    private readonly graceMs = PAGE_GRACE_MS,
  ) {
    this.on = mode === 'on';
  }

  /** `/inspect/ws` clients connected now. */
  get watching(): number {
    return this.watchers;
  }

  /** An `/inspect` page was served: record for the grace period (in `watch` mode). */
  pageServed(): void {
    if (this.mode !== 'watch') return;
    if (this.grace !== null) clearTimeout(this.grace);
    this.grace = setTimeout(() => {
      this.grace = null;
      this.update();
    }, this.graceMs);
    this.grace.unref();
    this.update();
  }

  /** An `/inspect/ws` client connected. */
  watcherOpened(): void {
    this.watchers++;
    this.update();
  }

  /** An `/inspect/ws` client went away. */
  watcherClosed(): void {
    if (this.watchers > 0) this.watchers--;
    this.update();
  }

  /** Stops the grace timer (shutdown). */
  close(): void {
    if (this.grace !== null) clearTimeout(this.grace);
    this.grace = null;
  }

  private update(): void {
    const on = this.mode === 'on' || (this.mode === 'watch' && (this.watchers > 0 || this.grace !== null));
    if (on === this.on) return;
    this.on = on;
    this.onChange?.(on);
  }
}
