/**
 * The dashboard's one way to the admin API: same origin, the site's admin token as a bearer
 * token from sessionStorage (never in a URL, gone when the tab closes). A 401 or 403 signs the
 * merchant out with the edge's reason.
 */
import * as v from 'valibot';
import { LedgerSchema, RoundsAnswerSchema } from '../protocol/admin-answers.ts';
import type { Ledger, NoisedRelease, RoundsAnswer } from '../protocol/admin-answers.ts';
import type { ErrorBody, Product, Template, Creative } from '../protocol/wire.ts';

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

  settings() {
    return this.call<SiteSettingsView>('');
  }
  async rounds(last = 48): Promise<RoundsView> {
    return v.parse(RoundsAnswerSchema, await this.call<unknown>(`/rounds?last=${last}`));
  }
  async privacy(): Promise<PrivacyView> {
    return v.parse(LedgerSchema, await this.call<unknown>('/privacy'));
  }
  models() {
    return this.call<{ models: ModelView[] }>('/models');
  }
  catalog() {
    return this.call<{ products: Product[]; creatives: Creative[]; templates: Template[] }>('/catalog');
  }
  promote(version: string) {
    return this.call<{ version: string }>(`/models/${version}/promote`, { method: 'POST' });
  }
  rollback() {
    return this.call<{ version: string }>('/models/rollback', { method: 'POST' });
  }
  saveTemplate(template: Template) {
    return this.call<{ upserted: number }>('/templates', { method: 'PUT', body: JSON.stringify({ templates: [template] }) });
  }
}

export interface SiteSettingsView {
  id: string;
  name: string;
  allowedOrigins: string[];
  minCohort: number;
  roundSeconds: number;
  epsilonBudget: number;
  noiseMultiplier: number;
  /** L2 bound of one device's last-layer statistics per round. */
  headClip: number;
  /** ISO 4217 code of the catalog's prices. */
  currency: string;
}

/** A round's noised release, and the recent rounds: the schemas the edge's answers are parsed with (protocol/admin-answers.ts). */
export type ReleaseView = NoisedRelease;
export type CreativeTotalsView = NoisedRelease['totals'][number];
export type RoundsView = RoundsAnswer;

/** The privacy ledger: the schema the edge's answer is parsed with (protocol/admin-answers.ts). */
export type PrivacyView = Ledger;

export interface ModelView {
  version: string;
  status: 'serving' | 'candidate' | 'retired';
  createdAt: string;
  promotedAt: string | null;
  trainedOn: string;
}
