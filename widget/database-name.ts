/**
 * The name of a site's database on the device, in one place: the engine opens it (worker), and
 * the loader deletes it when a consent manager withdraws consent (main thread).
 */
export const DB_NAME_PREFIX = 'vitrine:';

export function databaseName(site: string): string {
  return `${DB_NAME_PREFIX}${site}`;
}
