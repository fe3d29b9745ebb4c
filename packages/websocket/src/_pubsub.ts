/**
 * The pub/sub seam: how {@link WebSocketServer.publish} reaches subscribers in other processes.
 *
 * The server owns the topics of its own sockets and delivers locally; a backend only carries
 * messages between processes. The interface is declared here, by the package that uses it: a
 * backend satisfies it structurally without importing this package (`clusterPubSub()` of
 * `@strata/transport/cluster` for the workers of one machine, `redisPubSub()` of
 * `@strata/websocket/redis` for several machines).
 */

/** Delivers one message from another process to this process's subscribers of `topic`. */
export type PubSubDeliver = (topic: string, data: string | Uint8Array, binary: boolean) => void;

/**
 * Carries published messages between the processes that serve one set of topics.
 *
 * The contract a backend keeps:
 * - `publish()` never delivers back to this process (the server has already delivered locally),
 *   and must copy or encode `data` before it returns (the caller may reuse the buffer).
 * - Messages from one publishing process reach each other process in the order they were
 *   published, or not at all (a bounded backend drops rather than queue without limit).
 * - `subscribe()` / `unsubscribe()` are hints for routing: the server calls `subscribe(topic)`
 *   when its first socket subscribes to `topic` and `unsubscribe(topic)` when the last one leaves.
 *   A backend may deliver messages of topics it was never asked for; the server ignores them.
 * - `onMessage()` is called once, by the server that owns the backend (one backend per server).
 */
export interface PubSubBackend {
  /** Carries one local publish to the other processes (never back to this one). */
  publish(topic: string, data: string | Uint8Array, binary: boolean): void;
  /** This process has its first subscriber of `topic`. */
  subscribe(topic: string): void;
  /** This process has no subscriber of `topic` left. */
  unsubscribe(topic: string): void;
  /** Registers the callback that delivers a message from another process to local subscribers. */
  onMessage(deliver: PubSubDeliver): void;
  /** Stops carrying messages; `WebSocketServer.close()` calls it once its sockets are closed. */
  close?(): void | Promise<void>;
}
