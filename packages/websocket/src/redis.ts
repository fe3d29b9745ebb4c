/**
 * `@strata/websocket/redis`: a {@link PubSubBackend} over Redis PUBLISH / SUBSCRIBE, for servers on
 * several machines (behind a load balancer) that share topics through an existing Redis.
 *
 * It takes two client instances that the application creates, connects and maintains (reconnects,
 * errors, `quit()`), such as `@redis/client`'s `createClient()` and its `duplicate()`: one that
 * publishes and one dedicated to subscriptions (a Redis connection in subscriber mode cannot run
 * other commands). The clients are duck-typed: this module never imports a Redis library.
 *
 * @example
 * ```ts
 * import { createClient } from '@redis/client';
 * import { WebSocketServer } from '@strata/websocket';
 * import { redisPubSub } from '@strata/websocket/redis';
 *
 * const publisher = await createClient({ url: 'redis://10.0.0.5:6379' }).connect();
 * const subscriber = await publisher.duplicate().connect();
 * const wss = new WebSocketServer({ pubsub: redisPubSub({ publisher, subscriber }) });
 * ```
 *
 * @packageDocumentation
 */
import { randomBytes } from 'node:crypto';
import type { PubSubBackend, PubSubDeliver } from './_pubsub';

/** A listener of one Redis channel, in buffer mode: the message and the channel as Buffers. */
export type RedisBufferListener = (message: Buffer, channel: Buffer) => unknown;

/** What {@link redisPubSub} needs of the publishing client (`@redis/client`'s shape). */
export interface RedisPublisherLike {
  publish(channel: string, message: Buffer): Promise<unknown>;
}

/** What {@link redisPubSub} needs of the subscribing client (`@redis/client`'s shape). */
export interface RedisSubscriberLike {
  subscribe(channel: string, listener: RedisBufferListener, bufferMode: true): Promise<unknown>;
  unsubscribe(channel: string, listener: RedisBufferListener, bufferMode: true): Promise<unknown>;
}

/** Options of {@link redisPubSub}. */
export interface RedisPubSubOptions {
  /** The client that runs PUBLISH. */
  publisher: RedisPublisherLike;
  /** A client dedicated to SUBSCRIBE (it may be shared with other backends of other prefixes). */
  subscriber: RedisSubscriberLike;
  /** Redis channel of a topic: `prefix + topic`. Default `'strata:ws:'`. */
  prefix?: string;
  /**
   * Bytes of PUBLISH commands whose reply has not arrived (queued while the connection is down,
   * or a slow Redis) at or over which `publish()` drops the message and counts it. Default 4 MiB.
   */
  maxPendingBytes?: number;
  /** A failed PUBLISH, SUBSCRIBE or UNSUBSCRIBE (counted in `stats().errors`). Default: ignored. */
  onError?: (err: unknown) => void;
}

/** Counters of a {@link RedisPubSub}. */
export interface RedisPubSubStats {
  /** PUBLISH commands sent. */
  sent: number;
  /** Messages `publish()` dropped because `maxPendingBytes` were waiting for Redis. */
  dropped: number;
  /** Bytes of PUBLISH commands waiting for their reply. */
  pendingBytes: number;
  /** Messages from other processes handed to the server. */
  received: number;
  /** Messages received that this process had published itself (skipped). */
  own: number;
  /** Messages on a subscribed channel that are not in this backend's format (skipped). */
  invalid: number;
  /** Failed commands. */
  errors: number;
  /** Topics subscribed to. */
  topics: number;
}

/** The Redis backend; `id` is the origin id its messages carry. */
export interface RedisPubSub extends PubSubBackend {
  /** This process's origin id (16 random bytes, hex): messages carrying it are not delivered. */
  readonly id: string;
  /** Unsubscribes every channel (the clients stay connected: they are the application's). */
  close(): Promise<void>;
  stats(): RedisPubSubStats;
}

/** Default of {@link RedisPubSubOptions.maxPendingBytes}. */
export const DEFAULT_REDIS_MAX_PENDING_BYTES = 4 * 1024 * 1024;

/**
 * A message on the wire: one kind byte, the 16-byte origin id, then the payload. The kind byte
 * says how the server sends it: `T` (0x54) a text message (payload: UTF-8), `B` (0x42) binary.
 */
const KIND_TEXT = 0x54; // 'T'
const KIND_BINARY = 0x42; // 'B'
const ORIGIN_BYTES = 16;
const HEADER_BYTES = 1 + ORIGIN_BYTES;

/**
 * A pub/sub backend over Redis: each topic is the Redis channel `prefix + topic`, subscribed while
 * this process has subscribers of it. Every message carries this process's random origin id, so
 * the copy Redis sends back to our own subscription is skipped (`publish()` has already delivered
 * it locally). Text and binary payloads keep their kind and bytes.
 *
 * - Order: one publisher connection, so Redis delivers one process's messages in publish order.
 * - Bound: PUBLISH commands waiting for Redis (a slow Redis, or a connection down while the
 *   client queues offline) count against `maxPendingBytes`; past it, messages are dropped and
 *   counted rather than queued without limit.
 * - Redis pub/sub is at-most-once: a subscriber disconnected when a message is published misses
 *   it, and so do messages published before a SUBSCRIBE completes.
 */
export function redisPubSub(options: RedisPubSubOptions): RedisPubSub {
  const { publisher, subscriber } = options;
  if (typeof publisher?.publish !== 'function') {
    throw new TypeError('redisPubSub: options.publisher must have publish(channel, message)');
  }
  if (typeof subscriber?.subscribe !== 'function' || typeof subscriber.unsubscribe !== 'function') {
    throw new TypeError('redisPubSub: options.subscriber must have subscribe() and unsubscribe()');
  }
  const prefix = options.prefix ?? 'strata:ws:';
  const maxPending = options.maxPendingBytes ?? DEFAULT_REDIS_MAX_PENDING_BYTES;
  if (typeof maxPending !== 'number' || !(maxPending >= 0)) {
    throw new TypeError('redisPubSub: maxPendingBytes must be a number >= 0');
  }
  const onError = options.onError;
  const origin = randomBytes(ORIGIN_BYTES);
  const stats: Omit<RedisPubSubStats, 'topics'> = {
    sent: 0,
    dropped: 0,
    pendingBytes: 0,
    received: 0,
    own: 0,
    invalid: 0,
    errors: 0,
  };
  /** Each subscribed topic's listener (the same function must be passed to unsubscribe). */
  const listeners = new Map<string, RedisBufferListener>();
  let deliver: PubSubDeliver | null = null;
  let closed = false;

  const failed = (err: unknown): void => {
    stats.errors++;
    onError?.(err);
  };
  /** A client call as a promise, whether it rejects or throws (a closed client may throw). */
  const attempt = (call: () => Promise<unknown>): Promise<unknown> => {
    try {
      return call();
    } catch (err) {
      return Promise.reject(err);
    }
  };

  function receive(topic: string, message: Buffer): void {
    if (deliver === null || !listeners.has(topic)) return;
    const kind = message[0];
    if (message.length < HEADER_BYTES || (kind !== KIND_TEXT && kind !== KIND_BINARY)) {
      stats.invalid++;
      return;
    }
    if (message.compare(origin, 0, ORIGIN_BYTES, 1, HEADER_BYTES) === 0) {
      stats.own++;
      return;
    }
    stats.received++;
    const payload = message.subarray(HEADER_BYTES);
    deliver(topic, kind === KIND_TEXT ? payload.toString('utf8') : payload, kind === KIND_BINARY);
  }

  return {
    id: origin.toString('hex'),

    publish(topic, data, binary) {
      if (closed) return;
      if (stats.pendingBytes >= maxPending) {
        stats.dropped++;
        return;
      }
      const length = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
      const message = Buffer.allocUnsafe(HEADER_BYTES + length);
      message[0] = binary ? KIND_BINARY : KIND_TEXT;
      origin.copy(message, 1);
      if (typeof data === 'string') message.write(data, HEADER_BYTES, 'utf8');
      else message.set(data, HEADER_BYTES);
      const size = message.length + prefix.length + topic.length;
      stats.pendingBytes += size;
      stats.sent++;
      attempt(() => publisher.publish(prefix + topic, message)).then(
        () => {
          stats.pendingBytes -= size;
        },
        (err: unknown) => {
          stats.pendingBytes -= size;
          failed(err);
        },
      );
    },

    subscribe(topic) {
      if (closed || listeners.has(topic)) return;
      const listener: RedisBufferListener = (message) => receive(topic, message);
      listeners.set(topic, listener);
      attempt(() => subscriber.subscribe(prefix + topic, listener, true)).catch(failed);
    },

    unsubscribe(topic) {
      const listener = listeners.get(topic);
      if (listener === undefined) return;
      listeners.delete(topic);
      attempt(() => subscriber.unsubscribe(prefix + topic, listener, true)).catch(failed);
    },

    onMessage(fn) {
      if (deliver !== null) {
        throw new TypeError('redisPubSub: onMessage was already called (one backend per server)');
      }
      deliver = fn;
    },

    async close() {
      if (closed) return;
      closed = true;
      deliver = null;
      const pending: Promise<unknown>[] = [];
      for (const [topic, listener] of listeners) {
        pending.push(attempt(() => subscriber.unsubscribe(prefix + topic, listener, true)).catch(failed));
      }
      listeners.clear();
      await Promise.all(pending);
    },

    stats() {
      return { ...stats, topics: listeners.size };
    },
  };
}

export type { PubSubBackend, PubSubDeliver } from './_pubsub';
