/** The site config's address on the edge: the page's prefetch (loader) and the engine ask the same. */
export const configUrl = (edge: string, site: string) => `${edge}/v1/sites/${encodeURIComponent(site)}/config`;
