/**
 * Reading request bodies safely: a byte limit enforced while streaming (a lying or absent
 * Content-Length cannot get past it), JSON parsing, and schema validation, each failure a 4xx.
 */
import * as v from 'valibot';
import { describeIssues } from '../../protocol/wire.ts';
import { HttpError } from './http-error.ts';

async function readLimited(request: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (declared > limit) throw new HttpError(413, 'body_too_large', `body is ${declared} bytes; the limit is ${limit}`);
  if (!request.body) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new HttpError(413, 'body_too_large', `body exceeds the limit of ${limit} bytes`);
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.byteLength;
  }
  return body;
}

/** Parses and validates a JSON body. Content-Type may be application/json or text/plain (no preflight). */
export async function readJson<S extends v.GenericSchema>(request: Request, schema: S, limit: number): Promise<v.InferOutput<S>> {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json' && type !== 'text/plain') {
    throw new HttpError(415, 'unsupported_media_type', 'send JSON as application/json or text/plain');
  }
  const bytes = await readLimited(request, limit);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    throw new HttpError(400, 'malformed_json', 'the body is not valid UTF-8 JSON');
  }
  const result = v.safeParse(schema, parsed);
  if (!result.success) throw new HttpError(422, 'invalid_body', describeIssues(result.issues));
  return result.output;
}

/** A binary body of exactly `bytes` bytes and Content-Type `type` (a Privacy Pass TokenRequest): 415 or 400 otherwise. */
export async function readBytes(request: Request, type: string, bytes: number): Promise<Uint8Array> {
  const sent = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (sent !== type) throw new HttpError(415, 'unsupported_media_type', `send the body as ${type}`);
  const body = await readLimited(request, bytes);
  if (body.byteLength !== bytes) throw new HttpError(400, 'invalid_body', `the body is ${body.byteLength} bytes; exactly ${bytes} are expected`);
  return body;
}

/** For commands that take no body (promote, rollback): anything sent along is refused, not ignored. */
export async function expectNoBody(request: Request): Promise<void> {
  const bytes = await readLimited(request, 1024);
  if (bytes.byteLength > 0) throw new HttpError(400, 'unexpected_body', 'this command takes no body');
}
