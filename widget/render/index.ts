/**
 * The renderer chunk (chunks/render-<hash>.js): preact, the creative components and the slot
 * watching, loaded by the loader as a module script carrying the merchant's CSP nonce
 * (data-nonce), so the script tag itself stays small. On evaluation it hands its API to the
 * loader through the one global slot the loader set up for it.
 */
import { RENDERER_HANDOFF } from './renderer-api.ts';
import type { Renderer } from './renderer-api.ts';
import { renderDecision } from './slot-rendering.ts';

const renderer: Renderer = { renderDecision };
const handoff = (window as unknown as Record<symbol, ((r: Renderer) => void) | undefined>)[RENDERER_HANDOFF];
handoff?.(renderer);
