// The `h2-download` scenario's body, shared so every HTTP/2 benchmark server sends the same bytes:
// DOWNLOAD_BYTES (100 MiB unless BENCH_DOWNLOAD_BYTES says otherwise) of the letter 'a'. The runner
// starts each server with BENCH_SCENARIO=<scenario>; the body is made only for `h2-download`, so the
// other scenarios' peak RSS does not carry 100 MiB that no request asks for.
export const DOWNLOAD_BYTES = Number(process.env.BENCH_DOWNLOAD_BYTES ?? 100 * 1024 * 1024);
export const DOWNLOAD_WANTED = process.env.BENCH_SCENARIO === 'h2-download';

/** The body GET /download answers, made once at startup; null outside the download scenario. */
export const DOWNLOAD = DOWNLOAD_WANTED ? Buffer.alloc(DOWNLOAD_BYTES, 0x61 /* 'a' */) : null;
