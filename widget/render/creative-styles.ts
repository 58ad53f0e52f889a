/**
 * Creative styles, applied inside the slot's shadow root through a constructable stylesheet
 * (no inline <style>, so a strict CSP without 'unsafe-inline' still allows it). The host page
 * themes creatives through CSS custom properties, which cross the shadow boundary.
 */
export const CREATIVE_CSS = `
:host { display: block; contain: content; }
.creative { box-sizing: border-box; display: flex; gap: 12px; align-items: center; padding: 12px;
  border-radius: var(--vitrine-radius, 10px); background: var(--vitrine-background, #f6f4ef);
  color: var(--vitrine-color, #1d1d1f); font: var(--vitrine-font, 15px/1.4 system-ui, sans-serif);
  text-decoration: none; min-height: 120px; }
.creative:focus-visible { outline: 3px solid var(--vitrine-accent, #0a5cff); outline-offset: 2px; }
.creative img { width: 96px; height: 96px; object-fit: cover; border-radius: 6px; flex: none; background: #ddd; }
.creative.banner { min-height: 160px; }
.creative.banner img { width: 140px; height: 140px; }
.copy { display: flex; flex-direction: column; gap: 4px; min-width: 0; }
.headline { font-weight: 700; font-size: 1.15em; }
.price { font-variant-numeric: tabular-nums; }
.cta { align-self: flex-start; margin-top: 4px; padding: 6px 12px; border-radius: 999px;
  background: var(--vitrine-accent, #0a5cff); color: var(--vitrine-accent-text, #fff); font-weight: 600; }
.badge { font-size: 0.75em; text-transform: uppercase; letter-spacing: 0.06em; opacity: 0.75; }
.frame { position: relative; }
.why { position: absolute; top: 6px; right: 8px; max-width: 70%; font-size: 0.75em; text-align: right; }
.why summary { cursor: pointer; list-style: none; opacity: 0.7; padding: 2px 4px; }
.why summary::-webkit-details-marker { display: none; }
.why summary:focus-visible { outline: 2px solid var(--vitrine-accent, #0a5cff); }
.why p { margin: 4px 0 0; padding: 8px; border-radius: 6px; background: var(--vitrine-background, #f6f4ef);
  box-shadow: 0 2px 8px #0003; text-align: left; }
@media (max-width: 480px) { .creative { flex-direction: column; align-items: flex-start; } }
@media (prefers-reduced-motion: no-preference) { .creative { transition: box-shadow 0.2s; } .creative:hover { box-shadow: 0 2px 10px #0002; } }
`;
