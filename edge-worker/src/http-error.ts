/**
 * The one error type of the edge: it carries the HTTP status and a machine-readable code.
 * The top-level handler (index.ts) turns it into `{ error, detail }`; anything else is logged
 * and answered 500 without internals.
 */
export class HttpError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 422 | 429 | 503,
    readonly code: string,
    readonly detail: string,
  ) {
    super(`${code}: ${detail}`);
  }
}
