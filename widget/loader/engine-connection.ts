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

export async function startEngineWorker(scriptUrl: string): Promise<{ engine: Remote<EngineApi>; worker: Worker }> {
  const engineUrl = new URL(`chunks/${__VITRINE_ENGINE_FILE__}`, scriptUrl).href;
  const response = await fetch(engineUrl, { credentials: 'omit' });
  if (!response.ok) throw new Error(`the engine (${engineUrl}) answered ${response.status}`);
  const blobUrl = URL.createObjectURL(new Blob([await response.text()], { type: 'text/javascript' }));
  const worker = new Worker(blobUrl, { type: 'module', name: 'vitrine-engine' });
  return { engine: wrap<EngineApi>(worker), worker };
}
