/**
 * Composing a creative: the policy picks the creative (template x product); this picks one
 * variant of each text slot of its template, uniformly at random, so that every variant is
 * shown and its probability is known exactly. The page receives the template reduced to the
 * chosen variants; the decision log keeps which ones and their probability, so outcomes can
 * later be credited to variants without bias.
 */
import type { Template } from '../../protocol/wire.ts';

export interface Composition {
  /** The template with each text slot reduced to its chosen variant. */
  template: Template;
  /** Chosen variant index per text slot: [headline, body, cta]. */
  variant: [number, number, number];
  /** Probability of this variant combination given the creative: 1 / (number of combinations). */
  propensity: number;
}

export function composeVariants(template: Template, random: () => number): Composition {
  const body = template.body ?? [''];
  const choose = (n: number) => Math.min(n - 1, Math.floor(random() * n));
  const variant: [number, number, number] = [choose(template.headline.length), choose(body.length), choose(template.cta.length)];
  return {
    template: { ...template, headline: [template.headline[variant[0]]!], body: [body[variant[1]]!], cta: [template.cta[variant[2]]!] },
    variant,
    propensity: 1 / (template.headline.length * body.length * template.cta.length),
  };
}
