/**
 * The engine: everything that happens on the device about the shopper, inside the Web Worker.
 * It records events into the profile, decides which creative each slot shows, logs the decision
 * with its propensity, and reports outcomes as aggregates (when reporting is allowed).
 */
import { LAYOUT_TRAITS } from '../../protocol/catalog.ts';
import { deleteDB } from 'idb';
import { CREATIVE_DIM, CROSS_DIM, crossRows, encodeShopper } from '../../protocol/features.ts';
import type { PageContext } from '../../protocol/features.ts';
import type { ShopperEvent } from '../../protocol/shopper-events.ts';
import type { Candidate, SiteConfig } from '../../protocol/wire.ts';
import { databaseName } from './device-store.ts';
import type { DeviceDB } from './device-store.ts';
import type { CreativeProbability, Decision, EngineApi, SlotDecision, EngineStartOptions, EngineStatus, OutcomeKind, PreparedReport } from './engine-api.ts';
import { attributePurchase, repeatsOrder, revenueOf } from './attribution.ts';
import { composeVariants, rankItems } from './composition.ts';
import type { Composition } from './composition.ts';
import { eligibleIndexes, ImpressionCounter } from './eligibility.ts';
import { CellHistory } from './cell-history.ts';
import { HoldoutAssignment, holdoutDecisions } from './holdout-assignment.ts';
import { expectedClick } from '../../protocol/offsets.ts';
import { explainDecision } from './explanation.ts';
import { WriteBehindProfile } from './write-behind-profile.ts';
import { emptyProfile } from '../../protocol/profile.ts';
import { openEngineStore, readEverything, START_ANSWER_MS, StorageUnavailable } from './engine-storage.ts';
import { sampleIndex, THOMPSON_DRAWS } from '../../protocol/policy.ts';
import type { Uniform } from '../../protocol/policy.ts';
import { RoundReporter } from './round-reporter.ts';
import type { ScoringModel } from './scoring-model.ts';
import { ServingState } from './serving-state.ts';
import { productOnScreen, resolveProducts } from './product-identity.ts';
import { SlotScoring, usable } from './slot-scoring.ts';
import type { ShopperInputs } from './slot-scoring.ts';
import { logDecisions, markOutcome, recordCandidateProbabilities } from './decision-log.ts';
import type { CandidateJob, LoggedFeatures } from './decision-log.ts';
import { parseTrackCalls } from './track-command.ts';

export class DeviceEngine implements EngineApi {
  private edge = '';
  /** The page's origin (EngineStartOptions.pageOrigin). */
  private origin = '';
  private site = '';
  private db: DeviceDB | null = null;
  private serving: ServingState | null = null;
  private impressions = new ImpressionCounter();
  private dismissed = new Set<string>();
  /** This shopper's own clicks per creative format (cell-history.ts), what the model's offsets adapt to on this device. */
  private cells = new CellHistory();
  private holdout = new HoldoutAssignment(null, Math.random, null);
  /** The reporting half (null when reporting is not allowed on this page). */
  private reports: RoundReporter | null = null;
  /** The shopper's profile as this tab knows it, written behind (write-behind-profile.ts). */
  private profile = new WriteBehindProfile(null, emptyProfile(Date.now()), async () => undefined, null);
  /** Candidate models' scoring of decisions already returned, not yet recorded (a report waits for it). */
  private readonly annotating = new Set<Promise<void>>();
  /**
   * Resolved once this page's first decision is answered (or a second after start without one):
   * the token's big-number arithmetic (tens of ms in this worker) waits for it and a few seconds
   * more, so it never delays the first creative (the cold first creative took 190 ms longer when
   * it did not wait) nor an event recorded as the tab closes (WebKit lost one behind it).
   */
  private decided!: () => void;
  private readonly firstDecision = new Promise<void>((resolve) => (this.decided = resolve));

  private readonly scoring: SlotScoring;

  constructor(private readonly random: Uniform = Math.random) {
    this.scoring = new SlotScoring(random);
  }

  /** A served model that cannot score is dropped (the popularity prior decides until the next config). */
  private readonly modelFailed = (model: ScoringModel, reason: string) => this.serving?.dropModel(model, reason);

  async start(options: EngineStartOptions): Promise<EngineStatus> {
    this.edge = options.edge.replace(/\/$/, '');
    this.origin = options.pageOrigin ?? this.edge;
    this.site = options.site;
    const serving = new ServingState(this.edge, this.site);
    const boundMs = options.startAnswerMs ?? START_ANSWER_MS;
    // Opening the database (and reading what decisions need) and fetching the config do not
    // depend on each other: overlap them.
    const [store, loaded] = await Promise.allSettled([
      openEngineStore(this.site, options.storage, boundMs),
      serving.load(Date.now(), options.prefetchedConfig, Date.now() + boundMs),
    ]);
    if (store.status === 'rejected') {
      const reason = store.reason instanceof StorageUnavailable ? store.reason.message : `no storage at all: ${String(store.reason)}`;
      return { state: 'unavailable', reason, inMemory: store.reason instanceof StorageUnavailable };
    }
    this.db = store.value.db;
    if (loaded.status === 'rejected') {
      return { state: 'unavailable', reason: String(loaded.reason instanceof Error ? loaded.reason.message : loaded.reason) };
    }
    this.serving = serving;
    ({ impressions: this.impressions, dismissed: this.dismissed, cells: this.cells } = store.value.local);
    this.holdout = new HoldoutAssignment(store.value.local.holdout, this.random, this.db);
    this.profile = new WriteBehindProfile(
      this.db,
      store.value.local.profile,
      async (db, batch) => {
        const config = this.serving?.current?.config;
        for (const e of batch) {
          if (e.type === 'purchase' && !(await repeatsOrder(db, e))) await attributePurchase(db, e.at, config?.attributionDays, revenueOf(e, config?.currency));
        }
      },
      options.storage === 'persistent' ? this.site : null,
    );
    if (options.reporting) {
      this.reports = new RoundReporter(
        this.edge,
        this.site,
        () => this.db,
        () => this.serving?.current ?? null,
        this.firstDecision,
        options.reportTokenDelayMs,
      );
      this.reports.start();
    }
    return {
      state: 'ready',
      modelVersion: serving.current!.model?.version ?? null,
      storage: options.storage === 'persistent' ? 'indexeddb' : 'memory',
      fallbackReason: loaded.value,
    };
  }

  /** Folds the events into this tab's profile at once (the next decision sees them) and writes them behind. */
  async track(recorded: ShopperEvent[]): Promise<void> {
    if (!this.db || recorded.length === 0) return;
    this.profile.record(resolveProducts(recorded, this.serving?.current?.config.candidates, this.origin));
  }

  async trackCalls(calls: [type: unknown, props: unknown][]): Promise<string[]> {
    const { events, dropped } = parseTrackCalls(calls, Date.now());
    if (events.length > 0) await this.track(events);
    return dropped;
  }

  async decide(slots: string[], page: PageContext): Promise<SlotDecision[]> {
    const db = this.db;
    const serving = this.serving;
    if (!db || !serving) return [];
    const now = Date.now();
    void serving.refreshIfDue(now);
    const decisions = await serving.with(async ({ config, model }): Promise<SlotDecision[]> => {
      if (this.holdout.heldOut(config.holdoutShare, now)) return holdoutDecisions(db, slots, config.round.id, now);
      const { templates, candidates, profile, shopper, eligible, notAdvertised } = this.situation(config, page, now);
      const out: Decision[] = [];
      // The head features of each chosen creative: kept in the worker's log (they go into the
      // round report's statistics), never handed to the page.
      const features = new Map<string, LoggedFeatures>();
      const variants = new Map<string, Composition>();
      const situations: CandidateJob[] = [];
      for (const slot of slots) {
        if (eligible.length === 0) break;
        const { p, modelVersion, phi, dim, head } = this.scoring.probabilities(
          config,
          model,
          shopper,
          candidates,
          slot,
          eligible,
          THOMPSON_DRAWS,
          this.modelFailed,
          this.cells,
        );
        const k = sampleIndex(p, this.random);
        const index = eligible[k]!;
        const candidate = candidates[index]!;
        const id = crypto.randomUUID();
        situations.push({ id, slot, eligible: eligible.slice(), index, head });
        eligible.splice(k, 1); // a slate: no creative twice on one page
        const composed = composeVariants(templates.get(candidate.templateId)!, this.random);
        const items = LAYOUT_TRAITS[candidate.layout].items
          ? rankItems(
              candidate.items.filter((item) => !notAdvertised.has(item.id)),
              profile,
            )
          : [];
        out.push({
          id,
          slot,
          candidate,
          template: composed.template,
          items,
          propensity: p[k]!,
          modelVersion,
          currency: config.currency,
          why: explainDecision(profile, page, candidate, modelVersion !== null),
        });
        variants.set(id, composed);
        if (phi) {
          const creatives = this.scoring.creativeRows(config, candidates, slot);
          const shownPhi = phi.subarray(index * dim, (index + 1) * dim);
          features.set(id, {
            phi: Array.from(shownPhi),
            expected: model ? expectedClick(shownPhi, model.mean) : 0,
            shopperRow: Array.from(shopper.row),
            crossRow: Array.from(shopper.cross.subarray(index * CROSS_DIM, (index + 1) * CROSS_DIM)),
            creativeRow: Array.from(creatives.subarray(index * CREATIVE_DIM, (index + 1) * CREATIVE_DIM)),
            eligibleCount: situations.at(-1)!.eligible.length,
          });
        }
      }
      // Not awaited: the decision is returned as soon as it is made. The log's transaction is
      // created now, so any later outcome's transaction on the same store runs after it.
      logDecisions(db, out, features, variants, config.round.id, now).catch((e: unknown) => console.warn('[vitrine] a decision was not logged:', e));
      if (model && serving.candidates(config).length > 0) {
        // What the candidate models would have chosen here: after the decision is returned (it
        // costs a scoring pass per candidate model), in a later transaction than the log's.
        const scored = new Promise<void>((later) => setTimeout(later, 0))
          .then(() => this.annotateCandidates(config, shopper, candidates, situations))
          .catch((e: unknown) => console.warn('[vitrine] candidate models not evaluated:', e));
        this.annotating.add(scored);
        void scored.finally(() => this.annotating.delete(scored));
      }
      return out;
    });
    // After the answer is on its way: what waited for the first decision may run.
    setTimeout(this.decided, 0);
    return decisions ?? [];
  }

  /** Records each candidate model's probability of the creative each decision chose. */
  private async annotateCandidates(config: SiteConfig, shopper: ShopperInputs, candidates: Candidate[], situations: CandidateJob[]): Promise<void> {
    const db = this.db;
    if (!db || !this.serving) return;
    const annotated = await this.serving.with(async (serving) => {
      if (serving.config !== config) return null; // the config changed meanwhile: these decisions are left out
      const pis = new Map<string, Record<string, number>>();
      for (const m of this.serving!.candidates(config)) {
        for (const job of situations) {
          let p: Float64Array;
          try {
            p = this.scoring.policyShares(config, m, shopper, candidates, job.slot, job.eligible, THOMPSON_DRAWS, this.cells, job.head).p;
          } catch {
            continue; // a candidate that cannot score here is not evaluated on this decision
          }
          const pi = pis.get(job.id) ?? {};
          pi[m.version] = p[job.eligible.indexOf(job.index)]!;
          pis.set(job.id, pi);
        }
      }
      return pis;
    });
    if (!annotated || annotated.size === 0) return;
    await recordCandidateProbabilities(db, annotated);
  }

  /**
   * `under`: another model's policy in this very situation instead of the serving model's (in
   * process only, never over comlink: the simulator scores the frozen first model with it).
   */
  async distribution(slot: string, page: PageContext, draws = 4096, under?: ScoringModel): Promise<CreativeProbability[]> {
    const db = this.db;
    if (!db || !this.serving) return [];
    const now = Date.now();
    const result = await this.serving.with(async ({ config, model }) => {
      const { candidates, shopper, eligible } = this.situation(config, page, now);
      if (eligible.length === 0) return [];
      const { p } = under
        ? this.scoring.policyShares(config, under, shopper, candidates, slot, eligible, draws, this.cells)
        : this.scoring.probabilities(config, model, shopper, candidates, slot, eligible, draws, this.modelFailed, this.cells);
      return eligible.map((i, k) => ({ creativeId: candidates[i]!.id, category: candidates[i]!.category, probability: p[k]! }));
    });
    return result ?? [];
  }

  /**
   * What a decision starts from, the same for decide() and distribution(): the usable
   * candidates, the profile read now, its encoding on this page, and who is eligible.
   */
  private situation(config: SiteConfig, page: PageContext, now: number) {
    const { templates, candidates } = usable(config);
    const profile = this.profile.current;
    // Never advertised to this shopper now: the product on screen, and what is already in the cart.
    const onScreen = productOnScreen(page.productIds, config.candidates, this.origin);
    const notAdvertised = new Set([...(onScreen ? [onScreen] : []), ...(profile.cart.products ?? [])]);
    return {
      templates,
      candidates,
      profile,
      notAdvertised,
      shopper: { row: encodeShopper(profile, page, now), cross: crossRows(profile, page, candidates) },
      eligible: eligibleIndexes(candidates, config, this.impressions.countsAt(now), this.dismissed, notAdvertised),
    };
  }

  async recordOutcome(decisionId: string, kind: OutcomeKind): Promise<void> {
    if (!this.db) return;
    const now = Date.now();
    const d = await markOutcome(this.db, decisionId, kind, now);
    if (!d) return;
    if (kind === 'impression') this.impressions.add(d.creativeId, now);
    if (kind === 'dismissal') this.dismissed.add(d.creativeId);
    if (d.cell && d.expected !== undefined && kind !== 'dismissal') {
      // Shown once, whichever outcome comes first: a click without a recorded impression still counts it shown.
      if (!d.impression && !d.click) this.cells.shown(d.cell, d.expected);
      if (kind === 'click') this.cells.clicked(d.cell);
    }
  }

  /**
   * Makes this round's report (once per round) and hands it to the page to send, with the
   * round's token (round-reporter.ts); null when there is nothing to send or no token yet.
   */
  async prepareReport(): Promise<PreparedReport | null> {
    // The candidates' scores of the decisions made so far first (a few ms): a report whose
    // off-policy sums left some of them out would compare the candidate and the serving model
    // on different decisions.
    await Promise.all(this.annotating);
    return (await this.reports?.prepare()) ?? null;
  }

  /** What the edge answered to a report the page sent: the outbox keeps, re-targets or drops it. */
  async reportAnswered(reportId: string, status: number, body: string): Promise<void> {
    await this.reports?.answered(reportId, status, body);
  }

  /** Closes the database and frees the models (for hosts that outlive the engine: the simulator). */
  async close(): Promise<void> {
    await this.reports?.settled();
    await this.profile.saved();
    this.profile.close();
    const serving = this.serving;
    this.serving = null;
    await serving?.dispose();
    this.db?.close();
    this.db = null;
  }

  async forget(): Promise<void> {
    const db = this.db;
    // Nothing is stored for the rest of this page: what the shopper asked to forget is not
    // rebuilt. (Not an in-memory store either: that is installed only in a worker started in
    // memory, and idb, having wrapped the real IndexedDB here, could not wrap its objects.)
    this.db = null;
    this.profile.forget();
    db?.close();
    await deleteDB(databaseName(this.site));
  }

  async exportData(): Promise<string> {
    await this.profile.saved();
    return JSON.stringify(
      this.db ? { site: this.site, exportedAt: new Date().toISOString(), ...(await readEverything(this.db)) } : { site: this.site, stored: null },
    );
  }
}
