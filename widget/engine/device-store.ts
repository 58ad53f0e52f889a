/**
 * The device's IndexedDB: the whole layout in one DBSchema, opened only by the engine worker.
 * Nothing in here is ever sent; reports are built from it and sent as aggregates.
 */
import { openDB } from 'idb';
import type { DBSchema, IDBPDatabase } from 'idb';
import type { ShopperProfile } from '../../protocol/profile.ts';
import type { Report } from '../../protocol/wire.ts';
import type { ShopperEvent } from '../../protocol/shopper-events.ts';

export const DB_NAME_PREFIX = 'vitrine:';
export const DB_VERSION = 1;

export interface StoredEvent extends ShopperEvent {
  id?: number;
}

export interface DecisionRecord {
  id: string;
  at: number;
  round: number;
  slot: string;
  creativeId: string;
  /** Probability with which this creative was chosen: the basis of every off-policy estimate. */
  propensity: number;
  modelVersion: string | null;
  impression: boolean;
  click: boolean;
  /** Which outcomes have gone into a report already (so none is counted twice). */
  reported: { impression: boolean; click: boolean };
}

export interface OutboxEntry {
  reportId: string;
  report: Report;
  createdAt: number;
  attempts: number;
}

export interface VitrineDB extends DBSchema {
  events: { key: number; value: StoredEvent; indexes: { byTime: number } };
  profile: { key: 'current'; value: ShopperProfile };
  decisions: { key: string; value: DecisionRecord; indexes: { byTime: number } };
  outbox: { key: string; value: OutboxEntry };
}

export type DeviceDB = IDBPDatabase<VitrineDB>;

/** One database per site, so two Vitrine merchants on one origin never mix shoppers' data. */
export function databaseName(site: string): string {
  return `${DB_NAME_PREFIX}${site}`;
}

export function openDeviceStore(site: string): Promise<DeviceDB> {
  return openDB<VitrineDB>(databaseName(site), DB_VERSION, {
    upgrade(db, oldVersion) {
      if (oldVersion < 1) {
        db.createObjectStore('events', { keyPath: 'id', autoIncrement: true }).createIndex('byTime', 'at');
        db.createObjectStore('profile');
        db.createObjectStore('decisions', { keyPath: 'id' }).createIndex('byTime', 'at');
        db.createObjectStore('outbox', { keyPath: 'reportId' });
      }
    },
  });
}
