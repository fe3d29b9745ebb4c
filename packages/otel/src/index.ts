/**
 * @strata/otel: OpenTelemetry server spans and HTTP metrics for Strata, from the diagnostics
 * channels of `@strata/server` (`strata:server:request`, `strata:server:response.finish`),
 * `@strata/router` (`strata:router:match`, for `http.route`) and `@strata/transport`
 * (`strata:transport:connection.open` / `.close`), following the stable HTTP semantic conventions.
 *
 * @example
 * ```ts
 * import { instrumentStrata } from '@strata/otel';
 * const otel = instrumentStrata(); // after the OpenTelemetry SDK is registered
 * ```
 */
export {
  ABORTED_ERROR_TYPE,
  detectContextStorage,
  INSTRUMENTATION_NAME,
  INSTRUMENTATION_VERSION,
  instrumentStrata,
  type StrataInstrumentation,
  type StrataInstrumentationOptions,
} from './_instrument';
export { Attr, DURATION_BUCKETS, KNOWN_METHODS, Metric } from './_semconv';
