/**
 * Creative styles, applied inside the slot's shadow root through a constructable stylesheet
 * (no inline <style>, so a strict CSP without 'unsafe-inline' still allows it). The host page
 * themes creatives through CSS custom properties, which cross the shadow boundary:
 * --vitrine-slot-height, --vitrine-background, --vitrine-color, --vitrine-accent,
 * --vitrine-accent-text, --vitrine-radius, --vitrine-font.
 *
 * Every layout fits the slot's reserved height (the loader reserves it before anything loads),
 * so a creative arriving never moves the page; the width is the slot's, and the layout adapts to
 * it with container queries (a phone's slot, a desktop's). Every layout keeps the top 30 px for
 * the corner's controls, so they never sit on the copy; prices and calls to action never wrap
 * or get cut (test/e2e/journeys.spec.ts checks it in three engines).
 */
export const CREATIVE_CSS = `
:host { display: block; min-height: var(--vitrine-slot-height, 184px); container-type: inline-size; contain: content; }
.frame { position: relative; height: var(--vitrine-slot-height, 184px); box-sizing: border-box; }
.creative { box-sizing: border-box; display: flex; gap: 12px; align-items: center; padding: 30px 14px 12px; height: 100%; overflow: hidden;
  border-radius: var(--vitrine-radius, 10px); background: var(--vitrine-background, #f6f4ef);
  color: var(--vitrine-color, #1d1d1f); font: var(--vitrine-font, 15px/1.4 system-ui, sans-serif); text-decoration: none; }
a { color: inherit; text-decoration: none; }
a:focus-visible, button:focus-visible, summary:focus-visible { outline: 3px solid var(--vitrine-accent, #0a5cff); outline-offset: 2px; }
.creative img { width: 96px; height: 96px; object-fit: cover; border-radius: 6px; flex: none; background: #ddd; }
.copy { display: flex; flex-direction: column; gap: 3px; min-width: 0; padding-right: 8px; }
.headline { font-weight: 700; font-size: 1.15em; overflow: hidden; text-overflow: ellipsis; display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; }
.body { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.price { font-variant-numeric: tabular-nums; font-weight: 600; white-space: nowrap; }
.price .was { margin-left: 6px; font-weight: 400; opacity: 0.75; }
.cta { align-self: flex-start; margin-top: 4px; padding: 6px 12px; border-radius: 999px;
  background: var(--vitrine-accent, #0a5cff); color: var(--vitrine-accent-text, #fff); font-weight: 600; white-space: nowrap; }
.badge { font-size: 0.75em; text-transform: uppercase; letter-spacing: 0.06em; opacity: 0.8; }
.creative.text { justify-content: flex-start; }
.creative.text .headline { font-size: 1.3em; }
.creative.carousel { gap: 14px; }
.carousel .lead { flex: 0 1 34%; min-width: 0; }
.carousel .items { display: flex; gap: 10px; margin: 0; padding: 0 0 4px; list-style: none; overflow-x: auto; scroll-snap-type: x mandatory; flex: 1; }
.carousel .items li { flex: 0 0 120px; min-width: 0; overflow: hidden; scroll-snap-align: start; }
.carousel .item { display: flex; flex-direction: column; gap: 2px; font-size: 0.85em; }
.carousel .item img { width: 72px; height: 72px; object-fit: cover; border-radius: 6px; background: #ddd; }
.carousel .name { overflow: hidden; text-overflow: ellipsis; display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; line-height: 1.25; }
.controls { position: absolute; top: 6px; right: 8px; display: flex; gap: 6px; align-items: flex-start; max-width: 70%; font-size: 0.75em;
  font-family: system-ui, sans-serif; color: var(--vitrine-color, #1d1d1f); }
.why { text-align: right; }
.why summary, .dismiss { cursor: pointer; list-style: none; opacity: 0.75; padding: 2px 6px; border-radius: 4px; background: #fffc; border: 0; font: inherit; color: inherit;
  box-sizing: border-box; min-height: 24px; min-width: 24px; display: inline-flex; align-items: center; }
.why summary::-webkit-details-marker { display: none; }
.why p { margin: 4px 0 0; padding: 8px; border-radius: 6px; background: var(--vitrine-background, #f6f4ef);
  box-shadow: 0 2px 8px #0003; text-align: left; }
/* A desktop's slot: the picture takes the creative's height (a banner's artwork a wide band of it),
   the headline is larger and the body shows. */
@container (min-width: 640px) {
  .creative.product_card img { width: auto; height: 100%; aspect-ratio: 1; }
  .creative.banner img { width: 42%; height: 100%; }
  .headline { font-size: 1.35em; }
  .creative.text .headline { font-size: 1.5em; }
  .body { white-space: normal; display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; }
  .carousel .lead { flex-basis: 30%; }
}
@container (max-width: 420px) {
  .creative.banner img, .creative img { width: 72px; height: 72px; }
  .creative.carousel { flex-direction: column; align-items: stretch; gap: 6px; }
  .carousel .lead { flex: none; }
  .carousel .lead .body, .carousel .lead .cta, .carousel .lead .badge { display: none; }
  .carousel .items li { flex-basis: 96px; }
  .carousel .item img { width: 56px; height: 56px; }
  .carousel .name { -webkit-line-clamp: 1; }
  /* A phone's product card is 96 px: the price, not the struck list price beside it (which would be cut). */
  .carousel .price .was { display: none; }
  .body { display: none; }
}
@media (prefers-reduced-motion: no-preference) {
  .creative { transition: box-shadow 0.2s; }
  a.creative:hover { box-shadow: 0 2px 10px #0002; }
  .carousel .items { scroll-behavior: smooth; }
}
`;
