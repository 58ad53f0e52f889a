/**
 * Starting the engine worker. A page cannot start a Worker from another origin's URL, so the
 * loader fetches the engine chunk (one self-contained module, served by the edge with CORS and
 * cached as immutable) and starts the worker from a same-origin blob of its text (after the
 * in-memory store's, for a worker that may not use the device's storage). Nothing in the
 * worker loads any other script: on a page with a strict Content-Security-Policy (nonces,
 * 'strict-dynamic') a worker may not import from another origin, and it needs no more than
 * `worker-src blob:`. IndexedDB in that worker belongs to the storefront's origin.
 */
import { wrap } from 'comlink';
import type { Remote } from 'comlink';
import type { EngineApi } from '../engine/engine-api.ts';

declare const __VITRINE_ENGINE_FILE__: string;
declare const __VITRINE_MEMORY_STORE_FILE__: string;

/**
 * A chunk's text, fetched from beside the script: once more, after 300 ms, when the edge did not
 * answer or answered 5xx (a busy edge or a dropped connection is not a reason to lose the page's
 * personalization); a 4xx is final.
 */
async function chunkText(url: string): Promise<string> {
  const attempt = async () => {
    const response = await fetch(url, { credentials: 'omit' });
    if (!response.ok) throw Object.assign(new Error(`the engine (${url}) answered ${response.status}`), { final: response.status < 500 });
    return response.text();
  };
  try {
    return await attempt();
  } catch (e) {
    if ((e as { final?: boolean }).final) throw e;
    await new Promise((resolve) => setTimeout(resolve, 300));
    return attempt();
  }
}

/**
 * Chunks this page has fetched, as Blobs (held by the browser, not in the page's heap): a worker
 * started again on the same page (after a consent change, a return from the back/forward cache,
 * or in memory after its storage failed) needs no request for them. A chunk that failed is asked
 * for again next time.
 */
const fetchedChunks = new Map<string, Promise<Blob>>();

function chunkBlob(scriptUrl: string, file: string): Promise<Blob> {
  const url = new URL(`chunks/${file}`, scriptUrl).href;
  let blob = fetchedChunks.get(url);
  if (!blob) {
    blob = chunkText(url).then((text) => new Blob([text], { type: 'text/javascript' }));
    fetchedChunks.set(url, blob);
    blob.catch(() => fetchedChunks.delete(url));
  }
  return blob;
}

/**
 * `failed` rejects when the worker cannot load (WebKit, for one, refuses a blob worker started as
 * its page goes away: "Cannot load blob: ... due to access control checks"). Its error event is
 * handled here, so it never reaches the host page as an uncaught error, and a start waiting for
 * the engine's answer hears of it instead of waiting for an answer that cannot come.
 */
export async function startEngineWorker(scriptUrl: string, inMemory: boolean): Promise<{ engine: Remote<EngineApi>; worker: Worker; failed: Promise<never> }> {
  // A worker in memory runs the in-memory store (memory-store.ts, a plain script in its own
  // scope) before the engine, in the same blob; a worker with the device's storage never loads it.
  const parts = await Promise.all([
    ...(inMemory ? [chunkBlob(scriptUrl, __VITRINE_MEMORY_STORE_FILE__), ';\n'] : []),
    chunkBlob(scriptUrl, __VITRINE_ENGINE_FILE__),
  ]);
  const blobUrl = URL.createObjectURL(new Blob(parts, { type: 'text/javascript' }));
  const worker = new Worker(blobUrl, { type: 'module', name: 'vitrine-engine' });
  const failed = new Promise<never>((_, reject) => {
    worker.addEventListener('error', (e) => {
      e.preventDefault();
      reject(new Error(`the engine worker did not start${e.message ? ` (${e.message})` : ''}`));
    });
  });
  // Nobody races it once the engine has started; a later error must not become an unhandled rejection.
  failed.catch(() => undefined);
  return { engine: wrap<EngineApi>(worker), worker, failed };
}
