/**
 * The one error type of the edge: it carries the HTTP status and a machine-readable code.
 * The top-level handler (index.ts) turns it into `{ error, detail }` (plus its extra fields); anything else is logged
 * and answered 500 without internals.
 */
export class HttpError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 422 | 429 | 503,
    readonly code: string,
    readonly detail: string,
    /** Fields the answer carries beside error and detail, for a client that acts on them (a closed round's `openRound`). */
    readonly extra: Readonly<Record<string, number | string>> = {},
  ) {
    super(`${code}: ${detail}`);
  }
}
