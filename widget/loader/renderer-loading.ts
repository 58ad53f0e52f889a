/**
 * The renderer (preact and the creative components) is not in the script tag: the loader adds
 * it as a module script from the edge, carrying the page's CSP nonce (data-nonce), so a page
 * with a strict Content-Security-Policy runs it, and the script tag stays a few kB. Slot space is
 * reserved right away, before anything loads, so a creative arriving never moves the page.
 */
import { RENDERER_HANDOFF } from '../render/renderer-api.ts';
import type { Renderer } from '../render/renderer-api.ts';

declare const __VITRINE_RENDER_FILE__: string;

let loading: Promise<Renderer> | null = null;

export function loadRenderer(scriptUrl: string, nonce: string | undefined): Promise<Renderer> {
  loading ??= new Promise<Renderer>((resolve, reject) => {
    (window as unknown as Record<symbol, unknown>)[RENDERER_HANDOFF] = resolve;
    const script = document.createElement('script');
    script.type = 'module';
    script.src = new URL(`chunks/${__VITRINE_RENDER_FILE__}`, scriptUrl).href;
    if (nonce) script.nonce = nonce;
    script.onerror = () => reject(new Error(`the renderer (${script.src}) did not load`));
    document.head.appendChild(script);
  });
  // A renderer that failed to load is tried again at the next decision (a single-page app's next route).
  loading.catch(() => {
    loading = null;
  });
  return loading;
}

/**
 * Keeps each slot's space (default 184 px, or the page's --vitrine-slot-height) from the start.
 * A constructable stylesheet (CSP-safe) with zero specificity (:where), so any rule of the
 * merchant's own wins.
 */
export function reserveSlotSpace(): void {
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(':where([data-vitrine-slot]){display:block;min-height:var(--vitrine-slot-height,184px)}');
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  } catch {
    // Without constructable stylesheets the merchant's own CSS reserves the space (README).
  }
}
