/**
 * Starting the engine worker. A page cannot start a Worker from another origin's URL, so the
 * loader starts a same-origin blob module that imports the engine chunk from the edge (the edge
 * serves chunks with CORS). IndexedDB in that worker belongs to the storefront's origin.
 */
import { wrap } from 'comlink';
import type { Remote } from 'comlink';
import type { EngineApi } from '../engine/engine-api.ts';

declare const __VITRINE_ENGINE_FILE__: string;

export function startEngineWorker(scriptUrl: string): { engine: Remote<EngineApi>; worker: Worker } {
  const engineUrl = new URL(`chunks/${__VITRINE_ENGINE_FILE__}`, scriptUrl).href;
  const blob = new Blob([`import ${JSON.stringify(engineUrl)};`], { type: 'text/javascript' });
  const blobUrl = URL.createObjectURL(blob);
  const worker = new Worker(blobUrl, { type: 'module', name: 'vitrine-engine' });
  return { engine: wrap<EngineApi>(worker), worker };
}
