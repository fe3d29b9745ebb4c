/**
 * Every name this package emits, against @opentelemetry/semantic-conventions (stable exports where
 * the convention is stable), the channel names against the packages that publish them, and the
 * small parsers (Host, query redaction).
 */
import * as semconv from '@opentelemetry/semantic-conventions';
import * as incubating from '@opentelemetry/semantic-conventions/incubating';
import { RouterChannel } from '@strata/router';
import { ServerChannel } from '@strata/server';
import { TransportChannel } from '@strata/transport';
import { describe, expect, it } from 'vitest';
import { redactQuery, splitHost } from '../src/_instrument';
import { Channels } from '../src/_semconv';
import { Attr, DURATION_BUCKETS, KNOWN_METHODS, Metric } from '../src/index';

describe('names', () => {
  it('attribute names are the semantic conventions', () => {
    const stable: Record<string, string> = {
      HTTP_REQUEST_METHOD: semconv.ATTR_HTTP_REQUEST_METHOD,
      HTTP_REQUEST_METHOD_ORIGINAL: semconv.ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
      HTTP_ROUTE: semconv.ATTR_HTTP_ROUTE,
      HTTP_RESPONSE_STATUS_CODE: semconv.ATTR_HTTP_RESPONSE_STATUS_CODE,
      URL_PATH: semconv.ATTR_URL_PATH,
      URL_QUERY: semconv.ATTR_URL_QUERY,
      URL_SCHEME: semconv.ATTR_URL_SCHEME,
      SERVER_ADDRESS: semconv.ATTR_SERVER_ADDRESS,
      SERVER_PORT: semconv.ATTR_SERVER_PORT,
      CLIENT_ADDRESS: semconv.ATTR_CLIENT_ADDRESS,
      NETWORK_PEER_ADDRESS: semconv.ATTR_NETWORK_PEER_ADDRESS,
      NETWORK_PEER_PORT: semconv.ATTR_NETWORK_PEER_PORT,
      NETWORK_PROTOCOL_VERSION: semconv.ATTR_NETWORK_PROTOCOL_VERSION,
      USER_AGENT_ORIGINAL: semconv.ATTR_USER_AGENT_ORIGINAL,
      ERROR_TYPE: semconv.ATTR_ERROR_TYPE,
      // Development (opt-in) attributes live in the incubating entry point.
      HTTP_REQUEST_BODY_SIZE: incubating.ATTR_HTTP_REQUEST_BODY_SIZE,
      HTTP_RESPONSE_BODY_SIZE: incubating.ATTR_HTTP_RESPONSE_BODY_SIZE,
      HTTP_RESPONSE_SIZE: incubating.ATTR_HTTP_RESPONSE_SIZE,
    };
    expect({ ...Attr }).toEqual(stable);
  });

  it('metric names, the known methods and the recommended duration buckets', () => {
    expect(Metric.REQUEST_DURATION).toBe(semconv.METRIC_HTTP_SERVER_REQUEST_DURATION);
    expect(Metric.ACTIVE_REQUESTS).toBe(incubating.METRIC_HTTP_SERVER_ACTIVE_REQUESTS);
    // No server connection metric in the conventions (only the client's open_connections).
    expect(
      Object.values(incubating).filter((v) => typeof v === 'string' && /^http\.server\..*connection/.test(v)),
    ).toEqual([]);
    expect(Metric.ACTIVE_CONNECTIONS).toBe('strata.server.active_connections');
    const methods = Object.entries(semconv)
      .filter(([k]) => k.startsWith('HTTP_REQUEST_METHOD_VALUE_') && k !== 'HTTP_REQUEST_METHOD_VALUE_OTHER')
      .map(([, v]) => v)
      .sort();
    expect([...KNOWN_METHODS].sort()).toEqual(methods);
    expect(semconv.HTTP_REQUEST_METHOD_VALUE_OTHER).toBe('_OTHER');
    // The spec's advice for http.server.request.duration, in seconds.
    expect(DURATION_BUCKETS).toEqual([
      0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
    ]);
  });

  it('channel names are the ones the layers publish', () => {
    expect(Channels).toEqual({
      REQUEST: ServerChannel.REQUEST,
      RESPONSE_FINISH: ServerChannel.RESPONSE_FINISH,
      ROUTER_MATCH: RouterChannel.MATCH,
      CONNECTION_OPEN: TransportChannel.OPEN,
      CONNECTION_CLOSE: TransportChannel.CLOSE,
    });
  });
});

describe('parsers', () => {
  it('splitHost', () => {
    expect(splitHost('example.com')).toEqual({ address: 'example.com', port: -1 });
    expect(splitHost('example.com:8080')).toEqual({ address: 'example.com', port: 8080 });
    expect(splitHost('[2001:db8::1]:443')).toEqual({ address: '2001:db8::1', port: 443 });
    expect(splitHost('[::1]')).toEqual({ address: '::1', port: -1 });
    expect(splitHost('host:99999')).toEqual({ address: 'host', port: -1 });
    expect(splitHost('host:')).toEqual({ address: 'host', port: -1 });
  });

  it('redactQuery: the values of AWSAccessKeyId, Signature, sig and X-Goog-Signature', () => {
    expect(redactQuery('q=1&sig=abc')).toBe('q=1&sig=REDACTED');
    expect(redactQuery('AWSAccessKeyId=k&Signature=s&x=y&X-Goog-Signature=g')).toBe(
      'AWSAccessKeyId=REDACTED&Signature=REDACTED&x=y&X-Goog-Signature=REDACTED',
    );
    // Only whole keys: `mysig=` and a value holding `sig=` stay.
    expect(redactQuery('mysig=1&a=sig=2')).toBe('mysig=1&a=sig=2');
    expect(redactQuery('q=OpenTelemetry')).toBe('q=OpenTelemetry');
  });
});
