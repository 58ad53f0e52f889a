/**
 * The dashboard's one way to the admin API: same origin, the site's admin token as a bearer
 * token from sessionStorage (never in a URL, gone when the tab closes). A 401 or 403 signs the
 * merchant out with the edge's reason.
 */
import * as v from 'valibot';
import {
  CatalogAnswerSchema,
  DeletedAnswerSchema,
  LedgerSchema,
  ModelsAnswerSchema,
  RoundsAnswerSchema,
  ServingAnswerSchema,
  SiteAnswerSchema,
  UpsertAnswerSchema,
} from '../protocol/admin-answers.ts';
import { OffsetsSchema } from '../protocol/offsets.ts';
import type { Offsets } from '../protocol/offsets.ts';
import type {
  CatalogAnswer,
  DeletedAnswer,
  Ledger,
  ModelsAnswer,
  NoisedRelease,
  RoundsAnswer,
  ServingAnswer,
  SiteAnswer,
  UpsertAnswer,
} from '../protocol/admin-answers.ts';
import type { Creative, ErrorBody, Product, Template } from '../protocol/wire.ts';

const KEY = 'vitrine-dashboard-session';

export interface Session {
  site: string;
  token: string;
}

export function savedSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

export function saveSession(s: Session | null): void {
  if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
  else sessionStorage.removeItem(KEY);
}

/** The token was refused (wrong, expired or for another site): back to sign-in. */
export class SignedOut extends Error {}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
  ) {
    super(body.detail || body.error);
  }
}

export class AdminApi {
  constructor(private readonly session: Session) {}

  get site(): string {
    return this.session.site;
  }

  private async call<T>(path: string, init: RequestInit = {}): Promise<T> {
    const response = await fetch(`/v1/admin/sites/${encodeURIComponent(this.session.site)}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${this.session.token}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
    });
    const body = (await response.json().catch(() => ({ error: 'bad_response', detail: `the edge answered ${response.status}` }))) as T & ErrorBody;
    if (response.status === 401 || response.status === 403) throw new SignedOut(body.detail || 'the token was refused');
    if (!response.ok) throw new ApiError(response.status, body);
    return body;
  }

  // Every answer is parsed with its schema in protocol/admin-answers.ts, as the trainer's client parses it.
  async settings(): Promise<SiteSettingsView> {
    return v.parse(SiteAnswerSchema, await this.call<unknown>(''));
  }
  async rounds(last = 48): Promise<RoundsView> {
    return v.parse(RoundsAnswerSchema, await this.call<unknown>(`/rounds?last=${last}`));
  }
  async privacy(): Promise<PrivacyView> {
    return v.parse(LedgerSchema, await this.call<unknown>('/privacy'));
  }
  async models(): Promise<ModelsAnswer> {
    return v.parse(ModelsAnswerSchema, await this.call<unknown>('/models'));
  }
  async catalog(): Promise<CatalogAnswer> {
    return v.parse(CatalogAnswerSchema, await this.call<unknown>('/catalog'));
  }
  /** A model's offsets (its public model.json: nothing about a shopper), null without. */
  async modelOffsets(version: string): Promise<Offsets | null> {
    const response = await fetch(`/v1/models/${encodeURIComponent(version)}/model.json`);
    if (!response.ok) throw new ApiError(response.status, { error: 'model_unavailable', detail: `model ${version} answered ${response.status}` });
    const parsed = v.safeParse(v.object({ offsets: v.optional(OffsetsSchema) }), await response.json());
    return parsed.success ? (parsed.output.offsets ?? null) : null;
  }
  async promote(version: string): Promise<ServingAnswer> {
    return v.parse(ServingAnswerSchema, await this.call<unknown>(`/models/${version}/promote`, { method: 'POST' }));
  }
  async rollback(): Promise<ServingAnswer> {
    return v.parse(ServingAnswerSchema, await this.call<unknown>('/models/rollback', { method: 'POST' }));
  }
  /** PATCH: changes the fields named, keeps the rest (the edge's rules: privacy only stricter, a budget that lasts). */
  async changeSettings(changes: Record<string, unknown>): Promise<SiteSettingsView> {
    return v.parse(SiteAnswerSchema, await this.call<unknown>('', { method: 'PATCH', body: JSON.stringify(changes) }));
  }
  async saveTemplate(template: Template): Promise<UpsertAnswer> {
    return v.parse(UpsertAnswerSchema, await this.call<unknown>('/templates', { method: 'PUT', body: JSON.stringify({ templates: [template] }) }));
  }
  async saveCreative(creative: Creative): Promise<UpsertAnswer> {
    return v.parse(UpsertAnswerSchema, await this.call<unknown>('/creatives', { method: 'PUT', body: JSON.stringify({ creatives: [creative] }) }));
  }
  async deleteCreative(id: string): Promise<DeletedAnswer> {
    return v.parse(DeletedAnswerSchema, await this.call<unknown>(`/creatives/${encodeURIComponent(id)}`, { method: 'DELETE' }));
  }
  /** Products, 1,000 a call (the edge's limit). */
  async putProducts(products: Product[]): Promise<number> {
    let uploaded = 0;
    for (let i = 0; i < products.length; i += 1000) {
      const batch = products.slice(i, i + 1000);
      uploaded += v.parse(UpsertAnswerSchema, await this.call<unknown>('/products', { method: 'PUT', body: JSON.stringify({ products: batch }) })).upserted;
    }
    return uploaded;
  }
}

/** The site's settings: the schema the edge's answer is parsed with (protocol/admin-answers.ts). */
export type SiteSettingsView = SiteAnswer;

/** A round's noised release, and the recent rounds: the schemas the edge's answers are parsed with (protocol/admin-answers.ts). */
export type ReleaseView = NoisedRelease;
export type CreativeTotalsView = NoisedRelease['totals'][number];
export type RoundsView = RoundsAnswer;

/** The privacy ledger: the schema the edge's answer is parsed with (protocol/admin-answers.ts). */
export type PrivacyView = Ledger;

/** One model of the site: the schema the edge's answer is parsed with (protocol/admin-answers.ts). */
export type ModelView = ModelsAnswer['models'][number];
