/**
 * What the renderer chunk gives the loader. Types and one symbol only: the loader imports this
 * file without bundling any of the renderer.
 */
import type { SlotDecision } from '../engine/engine-api.ts';
import type { OutcomeSink } from '../loader/engine-session.ts';

/** The global slot (a registered symbol, invisible to the page's own names) the chunk hands its API through. */
export const RENDERER_HANDOFF = Symbol.for('vitrine.renderer');

export interface RenderHooks {
  /** The shopper said "not interested": decide this slot again (the engine already excluded the creative). */
  replace(slot: HTMLElement): void;
  /** The page's CSP nonce (data-nonce), for the one element a renderer may insert (a fallback <style>). */
  nonce?: string;
}

export interface Renderer {
  /** `engine` is the page's current engine (a restored page gets a new one): outcomes go there. */
  renderDecision(slot: HTMLElement, decision: SlotDecision, engine: OutcomeSink, hooks: RenderHooks): void;
}
