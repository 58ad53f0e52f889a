/**
 * Starting the engine worker. A page cannot start a Worker from another origin's URL, so the
 * loader fetches the engine chunk (one self-contained module, served by the edge with CORS and
 * cached as immutable) and starts the worker from a same-origin blob of its text. Nothing in the
 * worker loads any other script: on a page with a strict Content-Security-Policy (nonces,
 * 'strict-dynamic') a worker may not import from another origin, and it needs no more than
 * `worker-src blob:`. IndexedDB in that worker belongs to the storefront's origin.
 */
import { wrap } from 'comlink';
import type { Remote } from 'comlink';
import type { EngineApi } from '../engine/engine-api.ts';

declare const __VITRINE_ENGINE_FILE__: string;

/**
 * `failed` rejects when the worker cannot load (WebKit, for one, refuses a blob worker started as
 * its page goes away: "Cannot load blob: ... due to access control checks"). Its error event is
 * handled here, so it never reaches the host page as an uncaught error, and a start waiting for
 * the engine's answer hears of it instead of waiting for an answer that cannot come.
 */
export async function startEngineWorker(scriptUrl: string): Promise<{ engine: Remote<EngineApi>; worker: Worker; failed: Promise<never> }> {
  const engineUrl = new URL(`chunks/${__VITRINE_ENGINE_FILE__}`, scriptUrl).href;
  const response = await fetch(engineUrl, { credentials: 'omit' });
  if (!response.ok) throw new Error(`the engine (${engineUrl}) answered ${response.status}`);
  const blobUrl = URL.createObjectURL(new Blob([await response.text()], { type: 'text/javascript' }));
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
