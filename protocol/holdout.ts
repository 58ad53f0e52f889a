/**
 * The holdout: a share of a site's devices (`holdoutShare`, 5% by default) keeps every slot's
 * own content, the merchant's, for a period, so that what Vitrine earns is measured against what
 * the shop shows without it, on shoppers drawn at random from the same traffic. Their
 * impressions, clicks and conversions of that content travel as one pseudo creative,
 * `HOLDOUT_CREATIVE`, in the same clipped, noised, fixed-shape counts as every creative's: a
 * release always lists it, so it costs no privacy budget of its own and says nothing about
 * whether any device was held out.
 */

/** The pseudo creative a held-out device's own-content outcomes are counted under (no merchant creative may take this id). */
export const HOLDOUT_CREATIVE = 'vitrine.holdout';

/** The share of devices held out when a site sets none: large enough to measure against within weeks at a few thousand shoppers a day. */
export const DEFAULT_HOLDOUT_SHARE = 0.05;
/** At most half: the holdout measures personalization, it must not replace it. */
export const MAX_HOLDOUT_SHARE = 0.5;

/** How long a device keeps its draw: a shopper stays in (or out of) the holdout for this many days, then draws again. */
export const HOLDOUT_DAYS = 30;

/** Whether a device with this draw (uniform in [0, 1), kept on the device) is held out at this share. */
export const heldOut = (draw: number, share: number): boolean => draw < share;
