// The one time format of API v3 (time_expire, success_time, create_time): RFC 3339 in China Standard
// Time, whole seconds, e.g. 2018-06-08T10:34:56+08:00.

/** Milliseconds since the epoch → RFC 3339 in UTC+8. */
export function rfc3339China(ms: number): string {
  return new Date(ms + 8 * 3600_000).toISOString().replace(/\.\d{3}Z$/, '+08:00');
}
