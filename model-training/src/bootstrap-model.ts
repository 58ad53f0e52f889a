/**
 * A site's first model, before any shopper feedback exists: synthetic shoppers browse the site's
 * real candidates (synthetic-shoppers.ts), a two-tower model is fitted on their logged clicks,
 * uploaded as candidate and promoted when nothing serves yet. Cached on disk by feature spec and
 * candidates, so a restart does not retrain.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FEATURE_SPEC_HASH } from '../../protocol/features.ts';
import { digest64 } from '../../protocol/hash.ts';
import type { ModelJson } from '../../protocol/model-artifact.ts';
import type { Candidate } from '../../protocol/wire.ts';
import type { EdgeAdminClient } from './edge-admin-client.ts';
import { DEFAULT_FIT, fitTwoTower } from './fit-two-tower.ts';
import { progress } from './progress.ts';
import { generateLoggedExamples } from './synthetic-shoppers.ts';

/**
 * What the synthetic shoppers' clicks are worth to the last layer, in real impressions: enough to
 * serve sensibly before any feedback, little enough that the first rounds of real feedback
 * overrule what the guess got wrong (a taste it did not model, such as brand).
 */
export const BOOTSTRAP_HEAD_EVIDENCE = 2000;

export interface BootstrapOptions {
  examples: number;
  cacheDir: string;
  log: (line: string) => void;
}

export async function trainBootstrapModel(candidates: Candidate[], o: BootstrapOptions): Promise<{ model: ModelJson; weights: Uint8Array; cached: boolean }> {
  const sorted = [...candidates].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const attributes = sorted.map((c) => [c.id, c.category, c.brand, c.price, c.layout, c.messageType, c.popularity]);
  const key = digest64(JSON.stringify({ spec: FEATURE_SPEC_HASH, attributes, examples: o.examples, fit: DEFAULT_FIT, headEvidence: BOOTSTRAP_HEAD_EVIDENCE }));
  const dir = path.join(o.cacheDir, key);
  if (existsSync(path.join(dir, 'weights.bin'))) {
    const model = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as ModelJson;
    return { model, weights: new Uint8Array(readFileSync(path.join(dir, 'weights.bin'))), cached: true };
  }
  o.log(`training the first model on ${o.examples} synthetic impressions over ${candidates.length} candidates…`);
  // Sorted by id: the same candidates in another order make the same model (and hit the cache).
  const data = generateLoggedExamples(sorted, o.examples, 1);
  const bar = progress('fit', DEFAULT_FIT.epochs);
  const fitted = await fitTwoTower(data, {
    ...DEFAULT_FIT,
    headEvidence: BOOTSTRAP_HEAD_EVIDENCE,
    trainedOn: `bootstrap: ${o.examples} synthetic impressions, uniform logging, seed 1; last layer counted as ${BOOTSTRAP_HEAD_EVIDENCE} impressions`,
    onEpoch: (epoch, loss) => bar.tick(epoch, `loss ${loss.toFixed(4)}`),
  });
  bar.done();
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'model.json'), JSON.stringify(fitted.model));
  writeFileSync(path.join(dir, 'weights.bin'), fitted.weights);
  return { model: fitted.model, weights: fitted.weights, cached: false };
}

/** Trains (or reuses) the bootstrap model for the site's current candidates and serves it if nothing usable serves yet. */
export async function bootstrapSiteModel(client: EdgeAdminClient, o: BootstrapOptions): Promise<string> {
  const config = await client.config();
  if (config.candidates.length === 0) throw new Error('the site has no candidates yet: upload products, templates and creatives first');
  const { model, weights } = await trainBootstrapModel(config.candidates, o);
  const { version } = await client.uploadModel(model, weights);
  // A model trained on another feature spec would be refused by every device: replace it.
  if (!config.model || config.model.specHash !== FEATURE_SPEC_HASH) {
    await client.promote(version);
    o.log(`model ${version} uploaded and now serving`);
  } else if (config.model.version !== version) {
    o.log(`model ${version} uploaded as candidate; ${config.model.version} keeps serving`);
  }
  return version;
}
