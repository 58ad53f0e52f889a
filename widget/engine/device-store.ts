/**
 * The device's IndexedDB: the whole layout in one DBSchema, opened only by the engine worker.
 * Nothing in here is ever sent; reports are built from it and sent as aggregates.
 */
import { openDB } from 'idb';
import { databaseName } from '../database-name.ts';

export { databaseName, DB_NAME_PREFIX } from '../database-name.ts';
import type { DBSchema, IDBPDatabase } from 'idb';
import type { ShopperProfile } from '../../protocol/profile.ts';
import type { Report } from '../../protocol/wire.ts';
import type { ShopperEvent } from '../../protocol/shopper-events.ts';

export interface StoredEvent extends ShopperEvent {
  id?: number;
}

export interface DecisionRecord {
  id: string;
  at: number;
  round: number;
  slot: string;
  creativeId: string;
  /** The creative's public cell, layout and message type (protocol/offsets.ts): where its offsets' clicks count. */
  cell?: string;
  /** The deciding model's predicted click probability of the shown creative (its head's phi . mean): what the offsets' clicks are measured against. */
  expected?: number;
  /** Probability with which this creative was chosen: the basis of every off-policy estimate. */
  propensity: number;
  /** Text variants shown, [headline, body, cta, badge] (older records: three), and their probability given the creative (composition.ts). */
  variant?: number[];
  variantPropensity?: number;
  modelVersion: string | null;
  /** The chosen creative's head features under `modelVersion` (null without a model): what the round report's statistics are built from. */
  phi?: number[] | null;
  /** The towers' inputs (shopper, creative and cross rows) and how many candidates were eligible: what the report's tower gradient is built from. */
  shopperRow?: number[];
  creativeRow?: number[];
  crossRow?: number[];
  eligibleCount?: number;
  /** Probability each candidate model in the config gave this creative in the same situation (off-policy sums). */
  candidatePi?: Record<string, number>;
  impression: boolean;
  click: boolean;
  /** When the click was recorded (the attribution window runs from it). */
  clickedAt?: number;
  /** A purchase followed the click within the attribution window (attribution.ts). */
  conversion?: boolean;
  /** That purchase's order value in the site's currency, when the page gave one in it (revenue: protocol/outcome-counts.ts). */
  orderValue?: number;
  /** The shopper said "not interested" in this creative (a negative outcome; it is never shown here again). */
  dismissal?: boolean;
  /** Which outcomes have gone into a report already (so none is counted twice). */
  reported: { impression: boolean; click: boolean; conversion?: boolean; dismissal?: boolean };
}

export interface OutboxEntry {
  reportId: string;
  report: Report;
  createdAt: number;
  attempts: number;
}

/** A creative the shopper dismissed ("not interested"): never eligible on this device again. */
export interface DismissedEntry {
  creativeId: string;
  at: number;
}

/** One row per round this device has reported in: what makes "once per round" hold across pages. */
export interface LedgerEntry {
  round: number;
  reportId: string;
  at: number;
}

/** A report token this device holds for a round (protocol/report-token.ts), until a report spends it. */
export interface TokenEntry {
  round: number;
  token: string;
}

/** A draw the device keeps for a while (protocol/holdout.ts: whether it is held out, redrawn after HOLDOUT_DAYS). */
export interface AssignmentEntry {
  name: 'holdout';
  draw: number;
  at: number;
}

export interface VitrineDB extends DBSchema {
  events: { key: number; value: StoredEvent; indexes: { byTime: number } };
  profile: { key: 'current'; value: ShopperProfile };
  decisions: { key: string; value: DecisionRecord; indexes: { byTime: number } };
  outbox: { key: string; value: OutboxEntry };
  ledger: { key: number; value: LedgerEntry };
  dismissed: { key: string; value: DismissedEntry };
  tokens: { key: number; value: TokenEntry };
  assignments: { key: string; value: AssignmentEntry };
}

export type DeviceDB = IDBPDatabase<VitrineDB>;

type Upgrade = (db: IDBPDatabase<VitrineDB>) => void;

/**
 * Schema migrations, one per version, applied in order from the version a device has. Never
 * edit a shipped one: devices in the field are at every version; add the next one instead.
 */
export const MIGRATIONS: readonly Upgrade[] = [
  // v1: events, profile, decisions, outbox
  (db) => {
    db.createObjectStore('events', { keyPath: 'id', autoIncrement: true }).createIndex('byTime', 'at');
    db.createObjectStore('profile');
    db.createObjectStore('decisions', { keyPath: 'id' }).createIndex('byTime', 'at');
    db.createObjectStore('outbox', { keyPath: 'reportId' });
  },
  // v2: the per-round report ledger
  (db) => {
    db.createObjectStore('ledger', { keyPath: 'round' });
  },
  // v3: creatives the shopper dismissed
  (db) => {
    db.createObjectStore('dismissed', { keyPath: 'creativeId' });
  },
  // v4: report tokens, one per round
  (db) => {
    db.createObjectStore('tokens', { keyPath: 'round' });
  },
  // v5: draws the device keeps (the holdout's)
  (db) => {
    db.createObjectStore('assignments', { keyPath: 'name' });
  },
];

export const DB_VERSION = MIGRATIONS.length;

/** One database per site, so two Vitrine merchants on one origin never mix shoppers' data. */

/** Opens (creating or upgrading) the site's database; `version` below the latest is for tests of upgrades. */
export async function openDeviceStore(site: string, version = DB_VERSION): Promise<DeviceDB> {
  const db: DeviceDB = await openDB<VitrineDB>(databaseName(site), version, {
    upgrade(upgrading, oldVersion, newVersion) {
      for (let v = oldVersion; v < (newVersion ?? version); v++) MIGRATIONS[v]!(upgrading);
    },
    // Another tab wants to upgrade or delete the database (a newer widget, or 'forget'):
    // this connection steps aside instead of blocking it.
    blocking() {
      db.close();
    },
  });
  return db;
}
