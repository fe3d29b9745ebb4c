/**
 * The names and values this package emits, from the OpenTelemetry HTTP semantic conventions
 * (stable since semconv 1.23; https://opentelemetry.io/docs/specs/semconv/http/). Spelled out here
 * rather than imported so the runtime depends on `@opentelemetry/api` alone; the tests check every
 * name against `@opentelemetry/semantic-conventions`.
 */

/** Span and metric attribute names. */
export const Attr = {
  HTTP_REQUEST_METHOD: 'http.request.method',
  HTTP_REQUEST_METHOD_ORIGINAL: 'http.request.method_original',
  HTTP_ROUTE: 'http.route',
  HTTP_RESPONSE_STATUS_CODE: 'http.response.status_code',
  HTTP_REQUEST_BODY_SIZE: 'http.request.body.size',
  HTTP_RESPONSE_BODY_SIZE: 'http.response.body.size',
  HTTP_RESPONSE_SIZE: 'http.response.size',
  URL_PATH: 'url.path',
  URL_QUERY: 'url.query',
  URL_SCHEME: 'url.scheme',
  SERVER_ADDRESS: 'server.address',
  SERVER_PORT: 'server.port',
  CLIENT_ADDRESS: 'client.address',
  NETWORK_PEER_ADDRESS: 'network.peer.address',
  NETWORK_PEER_PORT: 'network.peer.port',
  NETWORK_PROTOCOL_VERSION: 'network.protocol.version',
  USER_AGENT_ORIGINAL: 'user_agent.original',
  ERROR_TYPE: 'error.type',
} as const;

/** Metric names. */
export const Metric = {
  /** Stable: a histogram of request durations in seconds. */
  REQUEST_DURATION: 'http.server.request.duration',
  /** Development status in semconv: an up-down counter of requests being handled. */
  ACTIVE_REQUESTS: 'http.server.active_requests',
  /**
   * Open transport connections. The HTTP semantic conventions define no server connection metric
   * (only `http.client.open_connections`), so this one is in the `strata.` namespace.
   */
  ACTIVE_CONNECTIONS: 'strata.server.active_connections',
} as const;

/**
 * The methods semconv knows by default: RFC 9110's and PATCH (RFC 5789). Any other method (and any
 * other case: methods are case-sensitive) is reported as `_OTHER`, with the method as sent in
 * `http.request.method_original`.
 */
export const KNOWN_METHODS: readonly string[] = [
  'CONNECT',
  'DELETE',
  'GET',
  'HEAD',
  'OPTIONS',
  'PATCH',
  'POST',
  'PUT',
  'TRACE',
];

/** `http.server.request.duration`'s recommended bucket boundaries, in seconds. */
export const DURATION_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];

/** The channels read (published by @strata/server, @strata/router and @strata/transport). */
export const Channels = {
  REQUEST: 'strata:server:request',
  RESPONSE_FINISH: 'strata:server:response.finish',
  ROUTER_MATCH: 'strata:router:match',
  CONNECTION_OPEN: 'strata:transport:connection.open',
  CONNECTION_CLOSE: 'strata:transport:connection.close',
} as const;
