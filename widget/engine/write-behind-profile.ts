/**
 * The shopper's profile as this tab knows it: what decisions read (never IndexedDB). Events are
 * folded in here at once and written behind in batches; each write returns the stored profile,
 * which also holds other tabs' events, and becomes this copy again (this tab's newer events on
 * top). Other tabs of the site are told through a BroadcastChannel and re-read it.
 */
import { emptyProfile } from '../../protocol/profile.ts';
import type { ShopperProfile } from '../../protocol/profile.ts';
import { applyEvent } from '../../protocol/profile-updates.ts';
import type { ShopperEvent } from '../../protocol/shopper-events.ts';
import type { DeviceDB } from './device-store.ts';
import { readProfile, recordEvents } from './event-log.ts';

export class WriteBehindProfile {
  private unsaved: ShopperEvent[] = [];
  private saving: Promise<void> | null = null;
  private channel: BroadcastChannel | null = null;

  /**
   * `db` null: nothing is stored (after forget), events only fold in. `afterStore` runs on each
   * stored batch (purchases are attributed then). `site` set: the channel to the site's other tabs.
   */
  constructor(
    private db: DeviceDB | null,
    public current: ShopperProfile,
    private readonly afterStore: (db: DeviceDB, batch: ShopperEvent[]) => Promise<void>,
    site: string | null,
  ) {
    if (site !== null && typeof BroadcastChannel === 'function') {
      this.channel = new BroadcastChannel(`vitrine:${site}`);
      this.channel.onmessage = () => void this.adoptStored();
    }
  }

  /** Folds the events in at once (the next decision sees them) and writes them behind. */
  record(events: ShopperEvent[]): void {
    for (const e of events) applyEvent(this.current, e);
    if (!this.db) return;
    this.unsaved.push(...events);
    this.saving ??= this.save();
  }

  /**
   * Writes what was recorded, in batches: one transaction for everything recorded while the
   * previous one was in flight. A batch starts as soon as the first event is recorded, so an
   * event is in the store a few milliseconds later (a tab closed right after loses nothing).
   */
  private async save(): Promise<void> {
    try {
      while (this.db && this.unsaved.length > 0) {
        const db = this.db;
        const batch = this.unsaved.splice(0);
        const stored = await recordEvents(db, batch);
        // The stored profile holds every tab's events up to now; this tab's newer ones go on top.
        this.current = stored;
        for (const e of this.unsaved) applyEvent(this.current, e);
        this.channel?.postMessage('profile');
        await this.afterStore(db, batch);
      }
    } catch (e) {
      console.warn('[vitrine] events were not stored:', e);
    } finally {
      this.saving = null;
    }
  }

  /** Another tab stored events: take the stored profile (with this tab's unsaved events on top). */
  private async adoptStored(): Promise<void> {
    const db = this.db;
    if (!db || this.saving) return; // the write in flight brings the stored profile back anyway
    try {
      const stored = await readProfile(db);
      if (this.saving || this.db !== db) return;
      this.current = stored;
      for (const e of this.unsaved) applyEvent(this.current, e);
    } catch {
      // the next write brings it back
    }
  }

  /** Settles once every event recorded so far is in the store. */
  async saved(): Promise<void> {
    while (this.saving) await this.saving;
  }

  /** Stops telling and hearing other tabs (the engine is closing). */
  close(): void {
    this.channel?.close();
    this.channel = null;
  }

  /** Forget: nothing more is stored on this page, and the profile starts empty. */
  forget(): void {
    this.db = null;
    this.unsaved = [];
    this.current = emptyProfile(Date.now());
    this.close();
  }
}
