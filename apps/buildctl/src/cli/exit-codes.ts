/**
 * Exit codes scripts can rely on. They are part of buildctl's interface: documented in its help and
 * the README, and checked by the e2e test.
 */
export const EXIT = {
  /** The command did what was asked (and the build it followed was pushed). */
  ok: 0,
  /** The operation ran but its outcome is a failure: a followed build failed, verify found differences. */
  failed: 1,
  /** Unknown command or flag, a missing or bad value, missing configuration; the usage goes to stderr. */
  usage: 2,
  /** 401 or 403: the token is missing, wrong, revoked, or lacks the permission. */
  auth: 3,
  /** 404: no such build or incident (or not one the token may see). */
  notFound: 4,
  /** 409, 422 or 429: the service refused in the current state (Retry-After is printed when given). */
  refused: 5,
  /** The service could not be reached, or answered 5xx. */
  unavailable: 6,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The exit code for an HTTP error status. Other 4xx are the caller's bad values: usage. */
export const exitCodeForStatus = (status: number): ExitCode => {
  if (status === 401 || status === 403) return EXIT.auth;
  if (status === 404) return EXIT.notFound;
  if (status === 409 || status === 422 || status === 429) return EXIT.refused;
  if (status >= 500) return EXIT.unavailable;
  if (status >= 400) return EXIT.usage;
  return EXIT.ok;
};

export const EXIT_CODES_HELP = [
  'exit codes:',
  '  0  success',
  '  1  the outcome was a failure (a followed build did not push; verify found differences)',
  '  2  usage error (unknown command or flag, bad or missing value, no token), or a 400 from the service',
  '  3  not authenticated or forbidden (401, 403)',
  '  4  not found (404)',
  '  5  conflict or refused (409, 422, 429; Retry-After is printed)',
  '  6  the service could not be reached, or answered 5xx',
].join('\n');
