/**
 * What the engine decides with: the site's config and the model it names, always as one pair.
 *
 * While a page stays open the config is re-checked at most every `refreshSeconds` (a
 * conditional request: an unchanged config costs a 304). A changed config, and the model it
 * names, are loaded completely before they replace the current pair in a single assignment, so
 * a decision sees either the old pair or the new one, never a mix. A model replaced while
 * decisions are still using it is disposed of when the last of them is done.
 *
 * The config's candidate models (under evaluation, not serving) are loaded in the background,
 * never before a decision: a decision made before they arrive simply carries no candidate
 * probabilities, and the off-policy sums leave it out.
 */
import type { SiteConfig } from '../../protocol/wire.ts';
import type { ScoringModel } from './scoring-model.ts';
import { loadScoringModel } from './scoring-model.ts';
import { droppedNote, fetchSiteConfig } from './site-config.ts';
import type { PrefetchedConfig } from './engine-api.ts';
import { answerWithin } from '../answer-bound.ts';

export interface Serving {
  config: SiteConfig;
  model: ScoringModel | null;
}

/** The serving model had not arrived when the first decision was due. */
class ModelLate extends Error {}

const warn = (message: string) => console.warn(`[vitrine] ${message}`);
const reason = (e: unknown) => (e instanceof Error ? e.message : String(e));

export class ServingState {
  current: Serving | null = null;
  private etag: string | null = null;
  private checkedAt = 0;
  private refreshing: Promise<void> | null = null;
  private inFlight = 0;
  private retired: ScoringModel[] = [];
  private evaluating = new Map<string, ScoringModel>();
  /** Candidate versions being loaded or that failed to load (not retried on this page). */
  private candidateAttempts = new Set<string>();
  /** Settles when the candidate loads started so far are done (tests wait on it). */
  candidatesLoaded: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly edge: string,
    private readonly site: string,
  ) {}

  /**
   * The first config and model. Returns why personalization is degraded, or null when it is not.
   * The model is waited for until `modelBy` (a time): one that has not arrived by then does not
   * keep the page's first creative waiting (a stalled download, a busy device); the popularity
   * prior decides until it arrives, and it is swapped in then, between decisions.
   */
  async load(now: number, prefetched: PrefetchedConfig | null | undefined, modelBy: number): Promise<string | null> {
    const fetched = await fetchSiteConfig(this.edge, this.site, false, prefetched);
    const dropped = droppedNote(fetched.dropped);
    const notes = dropped ? [dropped] : [];
    let model: ScoringModel | null = null;
    const manifest = fetched.config.model;
    if (manifest) {
      const loading = loadScoringModel(this.edge, manifest);
      const waitMs = Math.max(0, modelBy - Date.now());
      try {
        model = await answerWithin(loading, waitMs, () => new ModelLate());
      } catch (e) {
        if (!(e instanceof ModelLate)) notes.push(`model not used (${reason(e)}); deciding by popularity`);
        else {
          notes.push(`model ${manifest.version} not used yet (it did not arrive within ${Math.round(waitMs)} ms); deciding by popularity until it does`);
          this.adoptWhenLoaded(loading, manifest.version);
        }
      }
    }
    this.current = { config: fetched.config, model };
    this.etag = fetched.etag;
    this.checkedAt = now;
    this.syncCandidates(fetched.config);
    return notes.length > 0 ? notes.join('; ') : null;
  }

  /** A serving model that arrived after the first decisions: swapped in if the config still names it and nothing replaced it meanwhile. */
  private adoptWhenLoaded(loading: Promise<ScoringModel>, version: string): void {
    loading.then(
      (late) => {
        const current = this.current;
        if (current && current.model === null && current.config.model?.version === version) this.current = { ...current, model: late };
        else late.dispose();
      },
      (e) => warn(`model ${version} not used (${reason(e)}); deciding by popularity`),
    );
  }

  /** Starts a re-check of the config when one is due; never makes a decision wait for it. */
  refreshIfDue(now: number): Promise<void> {
    const current = this.current;
    if (!current || this.refreshing || now - this.checkedAt < current.config.refreshSeconds * 1000) return this.refreshing ?? Promise.resolve();
    this.checkedAt = now;
    this.refreshing = this.refresh(current).finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async refresh(previous: Serving): Promise<void> {
    let fetched: Awaited<ReturnType<typeof fetchSiteConfig>>;
    try {
      fetched = await fetchSiteConfig(this.edge, this.site, true);
    } catch (e) {
      return warn(`config re-check failed (${reason(e)}); keeping the current one`);
    }
    if (fetched.etag !== null && fetched.etag === this.etag) return;
    const dropped = droppedNote(fetched.dropped);
    if (dropped) warn(dropped);
    const manifest = fetched.config.model;
    let model = previous.model;
    if (manifest && manifest.version !== previous.model?.version) {
      try {
        model = await loadScoringModel(this.edge, manifest);
      } catch (e) {
        warn(`model ${manifest.version} not used (${reason(e)}); keeping ${previous.model ? `model ${previous.model.version}` : 'popularity'}`);
      }
    } else if (!manifest) model = null;
    if (this.current !== previous) return model !== previous.model ? model?.dispose() : undefined;
    // The swap: one assignment, between decisions.
    this.current = { config: fetched.config, model };
    this.etag = fetched.etag;
    if (previous.model && previous.model !== model) this.retire(previous.model);
    this.syncCandidates(fetched.config);
  }

  /** The loaded candidate models `config` lists, in its order. */
  candidates(config: SiteConfig): ScoringModel[] {
    return config.candidateModels.flatMap((m) => this.evaluating.get(m.version) ?? []);
  }

  /** Drops candidate models the config no longer lists and starts loading new ones. */
  private syncCandidates(config: SiteConfig): void {
    const wanted = new Set(config.candidateModels.map((m) => m.version));
    for (const [version, m] of this.evaluating) {
      if (!wanted.has(version)) {
        this.evaluating.delete(version);
        this.retire(m);
      }
    }
    const loads = config.candidateModels
      .filter((manifest) => !this.candidateAttempts.has(manifest.version))
      .map(async (manifest) => {
        this.candidateAttempts.add(manifest.version);
        try {
          const m = await loadScoringModel(this.edge, manifest);
          if (this.current?.config.candidateModels.some((c) => c.version === manifest.version)) this.evaluating.set(manifest.version, m);
          else m.dispose();
        } catch (e) {
          warn(`candidate model ${manifest.version} not evaluated here (${reason(e)})`);
        }
      });
    if (loads.length > 0) this.candidatesLoaded = Promise.allSettled([this.candidatesLoaded, ...loads]);
  }

  /** Stops using the model (it failed while scoring); decisions go on by popularity. */
  dropModel(failed: ScoringModel, why: string): void {
    if (this.current?.model !== failed) return;
    warn(`model ${failed.version} failed while scoring (${why}); deciding by popularity`);
    this.current = { ...this.current, model: null };
    this.retire(failed);
  }

  /** Runs `decide` on one consistent pair, which stays alive until it is done. */
  async with<T>(decide: (serving: Serving) => Promise<T>): Promise<T | null> {
    const serving = this.current;
    if (!serving) return null;
    this.inFlight++;
    try {
      return await decide(serving);
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) for (const m of this.retired.splice(0)) m.dispose();
    }
  }

  /**
   * Frees every model's tensors once loads in progress are done. (A browser frees them with the
   * worker; the simulator, which runs thousands of engines in one process, calls this.)
   */
  async dispose(): Promise<void> {
    await Promise.allSettled([this.refreshing, this.candidatesLoaded]);
    const models = new Set([this.current?.model, ...this.evaluating.values(), ...this.retired.splice(0)]);
    this.current = null;
    this.evaluating.clear();
    for (const m of models) m?.dispose();
  }

  private retire(model: ScoringModel): void {
    if (this.inFlight === 0) model.dispose();
    else this.retired.push(model);
  }
}
