/**
 * The trainer's and seed script's client for the edge admin API. Turns transport failures and
 * error bodies into messages a merchant can act on.
 */
import type { ModelJson } from '../../protocol/model-artifact.ts';
import type { Creative, Product, SiteConfig, SiteSettings, Template } from '../../protocol/wire.ts';

export class EdgeError extends Error {}

export class EdgeAdminClient {
  constructor(
    private readonly edge: string,
    private readonly site: string,
    private readonly token: string,
  ) {}

  private async call<T>(method: string, path: string, body?: unknown, authorized = true): Promise<T> {
    const send = () =>
      fetch(`${this.edge}${path}`, {
        method,
        headers: {
          ...(authorized ? { authorization: `Bearer ${this.token}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    let response: Response;
    try {
      response = await send();
    } catch {
      // One retry: a kept-alive socket the server closed while we were busy (training) fails
      // once. Every admin call is idempotent (upserts, content-addressed uploads), so it is safe.
      try {
        response = await send();
      } catch (e) {
        throw new EdgeError(`cannot reach the edge at ${this.edge} (${(e as Error).cause ?? (e as Error).message}); is it running?`);
      }
    }
    const text = await response.text();
    if (response.status === 401 || response.status === 403) {
      throw new EdgeError(`the edge refused the admin token for site ${this.site} (${response.status}); check the token`);
    }
    if (!response.ok) {
      let detail = text.slice(0, 300);
      try {
        const parsed = JSON.parse(text) as { error?: string; detail?: string };
        detail = `${parsed.error}: ${parsed.detail}`;
      } catch {
        // not JSON: keep the raw text
      }
      throw new EdgeError(`${method} ${path} failed with ${response.status}: ${detail}`);
    }
    return (text ? JSON.parse(text) : null) as T;
  }

  private admin(rest = ''): string {
    return `/v1/admin/sites/${this.site}${rest}`;
  }

  putSite(settings: Partial<SiteSettings> & Pick<SiteSettings, 'name' | 'allowedOrigins'>) {
    return this.call('PUT', this.admin(), settings);
  }
  putProducts(products: Product[]) {
    return this.call('PUT', this.admin('/products'), { products });
  }
  putTemplates(templates: Template[]) {
    return this.call('PUT', this.admin('/templates'), { templates });
  }
  putCreatives(creatives: Creative[]) {
    return this.call('PUT', this.admin('/creatives'), { creatives });
  }
  uploadModel(model: ModelJson, weights: Uint8Array) {
    return this.call<{ version: string; created: boolean }>('POST', this.admin('/models'), { model, weights: Buffer.from(weights).toString('base64') });
  }
  promote(version: string) {
    return this.call<{ version: string }>('POST', this.admin(`/models/${version}/promote`));
  }
  config() {
    return this.call<SiteConfig>('GET', `/v1/sites/${this.site}/config`, undefined, false);
  }
  roundTotals(round: number | 'current') {
    return this.call<{ contributors: number; totals: { creativeId: string; impressions: number; clicks: number }[] }>('GET', this.admin(`/rounds/${round}/totals`));
  }
}
