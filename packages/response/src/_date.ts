/**
 * The `Date` header line (`Date: <IMF-fixdate>\r\n`, RFC 9110 section 5.6.7), cached and rebuilt at
 * most once a second. The cache is dropped by an unref'd timer at the next second boundary, so an
 * idle process has no timer and a busy one pays one string compare per response.
 */
let cachedLine = '';
let cachedValue = '';

function clear(): void {
  cachedLine = '';
}

function refresh(): void {
  const now = Date.now();
  cachedValue = new Date(now).toUTCString();
  cachedLine = `Date: ${cachedValue}\r\n`;
  const t = setTimeout(clear, 1000 - (now % 1000));
  t.unref?.();
}

/** `Date: ...\r\n` for the current second. */
export function dateLine(): string {
  if (cachedLine === '') refresh();
  return cachedLine;
}

/** The current IMF-fixdate, same cache as {@link dateLine}. */
export function dateValue(): string {
  if (cachedLine === '') refresh();
  return cachedValue;
}
