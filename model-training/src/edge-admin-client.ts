/**
 * The trainer's and seed script's client for the edge admin API. Turns transport failures and
 * error bodies into messages a merchant can act on.
 */
import * as v from 'valibot';
import {
  CatalogAnswerSchema,
  LedgerSchema,
  ModelUploadAnswerSchema,
  RetiredAnswerSchema,
  RoundAnswerSchema,
  ServingAnswerSchema,
  SiteAnswerSchema,
  UpsertAnswerSchema,
} from '../../protocol/admin-answers.ts';
import type {
  CatalogAnswer,
  Ledger,
  ModelUploadAnswer,
  RetiredAnswer,
  RoundAnswer,
  ServingAnswer,
  SiteAnswer,
  UpsertAnswer,
} from '../../protocol/admin-answers.ts';
import type { ModelJson } from '../../protocol/model-artifact.ts';
import type { Creative, Product, SiteConfig, Template } from '../../protocol/wire.ts';
import type { SiteSettings } from '../../protocol/site-settings.ts';

export class EdgeError extends Error {
  constructor(
    message: string,
    /** The HTTP status, when the edge answered. */
    readonly status?: number,
    /** The edge's error code, when it sent one. */
    readonly code?: string,
  ) {
    super(message);
  }
}

/** A round's status and release: the edge's answer, parsed with the schema it is built to (protocol/admin-answers.ts). */
export type { RoundAnswer };

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
    let error: { error?: string; detail?: string } = {};
    try {
      error = response.ok ? {} : (JSON.parse(text) as typeof error);
    } catch {
      // not JSON: the raw text is the detail
    }
    if (response.status === 403 && error.error === 'privacy_budget_exhausted') {
      throw new EdgeError(`the privacy budget of site ${this.site} is spent: ${error.detail}`, 403, error.error);
    }
    if (response.status === 401 || response.status === 403) {
      throw new EdgeError(`the edge refused the admin token for site ${this.site} (${response.status}); check the token`, response.status, error.error);
    }
    if (!response.ok) {
      const detail = error.error ? `${error.error}: ${error.detail}` : text.slice(0, 300);
      throw new EdgeError(`${method} ${path} failed with ${response.status}: ${detail}`, response.status, error.error);
    }
    return (text ? JSON.parse(text) : null) as T;
  }

  private admin(rest = ''): string {
    return `/v1/admin/sites/${this.site}${rest}`;
  }

  /** Every answer is parsed with its schema in protocol/admin-answers.ts: an edge that drifted fails here, loudly. */
  async putSite(settings: Partial<SiteSettings> & Pick<SiteSettings, 'name' | 'allowedOrigins'>): Promise<SiteAnswer> {
    return v.parse(SiteAnswerSchema, await this.call<unknown>('PUT', this.admin(), settings));
  }
  async settings(): Promise<SiteAnswer> {
    return v.parse(SiteAnswerSchema, await this.call<unknown>('GET', this.admin()));
  }
  async catalog(): Promise<CatalogAnswer> {
    return v.parse(CatalogAnswerSchema, await this.call<unknown>('GET', this.admin('/catalog')));
  }
  async putProducts(products: Product[]): Promise<UpsertAnswer> {
    return v.parse(UpsertAnswerSchema, await this.call<unknown>('PUT', this.admin('/products'), { products }));
  }
  async putTemplates(templates: Template[]): Promise<UpsertAnswer> {
    return v.parse(UpsertAnswerSchema, await this.call<unknown>('PUT', this.admin('/templates'), { templates }));
  }
  async putCreatives(creatives: Creative[]): Promise<UpsertAnswer> {
    return v.parse(UpsertAnswerSchema, await this.call<unknown>('PUT', this.admin('/creatives'), { creatives }));
  }
  async uploadModel(model: ModelJson, weights: Uint8Array): Promise<ModelUploadAnswer> {
    return v.parse(
      ModelUploadAnswerSchema,
      await this.call<unknown>('POST', this.admin('/models'), { model, weights: Buffer.from(weights).toString('base64') }),
    );
  }
  async promote(version: string): Promise<ServingAnswer> {
    return v.parse(ServingAnswerSchema, await this.call<unknown>('POST', this.admin(`/models/${version}/promote`)));
  }
  /** Ends a candidate's evaluation (devices stop scoring it); it can still be promoted by hand. */
  async retire(version: string): Promise<RetiredAnswer> {
    return v.parse(RetiredAnswerSchema, await this.call<unknown>('POST', this.admin(`/models/${version}/retire`)));
  }
  config() {
    return this.call<SiteConfig>('GET', `/v1/sites/${this.site}/config`, undefined, false);
  }
  /** Where a round stands (never counts or releases it). */
  async round(round: number | 'current'): Promise<RoundAnswer> {
    return v.parse(RoundAnswerSchema, await this.call<unknown>('GET', this.admin(`/rounds/${round}`)));
  }
  /** Releases a closed round that reached K (the first release spends privacy budget), or says where it stands. */
  async releaseRound(round: number): Promise<RoundAnswer> {
    return v.parse(RoundAnswerSchema, await this.call<unknown>('POST', this.admin(`/rounds/${round}/release`)));
  }
  async privacy(): Promise<Ledger> {
    return v.parse(LedgerSchema, await this.call<unknown>('GET', this.admin('/privacy')));
  }
  async rollback(): Promise<ServingAnswer> {
    return v.parse(ServingAnswerSchema, await this.call<unknown>('POST', this.admin('/models/rollback')));
  }
  /** A model's artifacts (public, immutable). */
  async modelFiles(version: string): Promise<{ model: ModelJson; weights: Uint8Array }> {
    const model = await this.call<ModelJson>('GET', `/v1/models/${version}/model.json`, undefined, false);
    const response = await fetch(`${this.edge}/v1/models/${version}/weights.bin`).catch((e: unknown) => {
      throw new EdgeError(`cannot reach the edge at ${this.edge} (${String(e)})`);
    });
    if (!response.ok) throw new EdgeError(`GET /v1/models/${version}/weights.bin failed with ${response.status}`);
    return { model, weights: new Uint8Array(await response.arrayBuffer()) };
  }
}
