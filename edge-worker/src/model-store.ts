/** D1 access for model artifacts: upload as candidate, promote, and read what is serving. */
import { headDim } from '../../protocol/model-artifact.ts';
import type { ModelJson } from '../../protocol/model-artifact.ts';
import { offsetKeys } from './catalog-store.ts';
import { towerParameterCount } from '../../protocol/tower-gradient.ts';
import { MAX_CANDIDATE_MODELS } from '../../protocol/wire.ts';

export interface ModelRow {
  version: string;
  site: string;
  specHash: string;
  status: 'candidate' | 'serving' | 'retired';
  createdAt: string;
  promotedAt: string | null;
}

export async function insertModel(
  db: D1Database,
  m: { version: string; site: string; specHash: string; modelJson: string; weights: Uint8Array },
): Promise<'created' | 'exists'> {
  const result = await db
    .prepare(
      `INSERT INTO models (version, site, spec_hash, status, model_json, weights, created_at)
       VALUES (?, ?, ?, 'candidate', ?, ?, ?) ON CONFLICT (site, version) DO NOTHING`,
    )
    .bind(m.version, m.site, m.specHash, m.modelJson, m.weights, new Date().toISOString())
    .run();
  return result.meta.changes > 0 ? 'created' : 'exists';
}

export async function getModel(db: D1Database, site: string, version: string): Promise<ModelRow | null> {
  const r = await db
    .prepare('SELECT version, site, spec_hash, status, created_at, promoted_at FROM models WHERE site = ? AND version = ?')
    .bind(site, version)
    .first<{ version: string; site: string; spec_hash: string; status: ModelRow['status']; created_at: string; promoted_at: string | null }>();
  return r && { version: r.version, site: r.site, specHash: r.spec_hash, status: r.status, createdAt: r.created_at, promotedAt: r.promoted_at };
}

export async function servingModel(db: D1Database, site: string): Promise<{ version: string; specHash: string } | null> {
  const r = await db
    .prepare("SELECT version, spec_hash FROM models WHERE site = ? AND status = 'serving'")
    .bind(site)
    .first<{ version: string; spec_hash: string }>();
  return r && { version: r.version, specHash: r.spec_hash };
}

/** Makes `version` the one serving model of its site, retiring the previous one, atomically. */
export async function promoteModel(db: D1Database, site: string, version: string): Promise<void> {
  const now = new Date().toISOString();
  await db.batch([
    db.prepare("UPDATE models SET status = 'retired' WHERE site = ? AND status = 'serving' AND version != ?").bind(site, version),
    db.prepare("UPDATE models SET status = 'serving', promoted_at = ? WHERE site = ? AND version = ?").bind(now, site, version),
  ]);
}

export async function modelArtifact(db: D1Database, version: string, file: 'model.json' | 'weights.bin'): Promise<string | ArrayBuffer | null> {
  if (file === 'model.json') {
    const r = await db.prepare('SELECT model_json FROM models WHERE version = ?').bind(version).first<{ model_json: string }>();
    return r?.model_json ?? null;
  }
  const r = await db.prepare('SELECT weights FROM models WHERE version = ?').bind(version).first<{ weights: ArrayBuffer | number[] }>();
  if (!r) return null;
  // D1 returns BLOBs as number arrays in some runtimes and ArrayBuffers in others.
  return r.weights instanceof ArrayBuffer ? r.weights : new Uint8Array(r.weights).buffer;
}

/**
 * The model to go back to: the most recently promoted model that no longer serves. Null when
 * the site never served anything before the current model.
 */
export async function previousServingModel(db: D1Database, site: string): Promise<string | null> {
  const r = await db
    .prepare("SELECT version FROM models WHERE site = ? AND status = 'retired' AND promoted_at IS NOT NULL ORDER BY promoted_at DESC, rowid DESC LIMIT 1")
    .bind(site)
    .first<{ version: string }>();
  return r?.version ?? null;
}

/**
 * Takes a candidate out of evaluation (devices stop scoring it at their next config check); it
 * stays listed, and a merchant can still promote it by hand. Says what the model was before.
 */
export async function retireCandidate(db: D1Database, site: string, version: string): Promise<ModelRow['status'] | null> {
  const model = await getModel(db, site, version);
  if (model?.status === 'candidate')
    await db.prepare("UPDATE models SET status = 'retired' WHERE site = ? AND version = ? AND status = 'candidate'").bind(site, version).run();
  return model?.status ?? null;
}

/** The newest models uploaded as candidates and never served: what devices evaluate beside the serving model. */
export async function candidateModels(db: D1Database, site: string, limit: number): Promise<{ version: string; specHash: string }[]> {
  const { results } = await db
    .prepare("SELECT version, spec_hash FROM models WHERE site = ? AND status = 'candidate' ORDER BY created_at DESC, rowid DESC LIMIT ?")
    .bind(site, limit)
    .all<{ version: string; spec_hash: string }>();
  return results.map((r) => ({ version: r.version, specHash: r.spec_hash }));
}

/** What a report's model parts are checked against: the serving model's version, head dimension and tower size, and the candidates under evaluation. */
export interface ReportModels {
  version: string;
  dim: number;
  towerParameters: number;
  candidates: string[];
  /** The keys an offsets part may carry (site-store.ts offsetKeys). */
  offsetKeys: string[];
}

export async function reportModels(db: D1Database, site: string): Promise<ReportModels | null> {
  const [r, candidates, keys] = await Promise.all([
    db.prepare("SELECT version, model_json FROM models WHERE site = ? AND status = 'serving'").bind(site).first<{ version: string; model_json: string }>(),
    candidateModels(db, site, MAX_CANDIDATE_MODELS),
    offsetKeys(db, site),
  ]);
  if (!r) return null;
  const topology = (JSON.parse(r.model_json) as ModelJson).topology;
  return {
    version: r.version,
    dim: headDim(topology),
    towerParameters: towerParameterCount(topology),
    candidates: candidates.map((c) => c.version),
    offsetKeys: keys,
  };
}

/** Every model of the site, newest first, with how it was trained (the dashboard's models view). */
export async function listModels(db: D1Database, site: string): Promise<(ModelRow & { trainedOn: string })[]> {
  const { results } = await db
    .prepare('SELECT version, site, spec_hash, status, created_at, promoted_at, model_json FROM models WHERE site = ? ORDER BY created_at DESC, rowid DESC')
    .bind(site)
    .all<{
      version: string;
      site: string;
      spec_hash: string;
      status: ModelRow['status'];
      created_at: string;
      promoted_at: string | null;
      model_json: string;
    }>();
  return results.map((r) => ({
    version: r.version,
    site: r.site,
    specHash: r.spec_hash,
    status: r.status,
    createdAt: r.created_at,
    promotedAt: r.promoted_at,
    trainedOn: (JSON.parse(r.model_json) as ModelJson).trainedOn,
  }));
}
