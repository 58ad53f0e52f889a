/**
 * Reading one object store of a site's Vitrine database from inside the page (its origin): the
 * function both e2e fixtures hand to their driver's evaluate. An absent database is empty: it is
 * not created (the engine would then find version 1 without its stores).
 */
export function readStoreInPage([name, storeName]: [string, string]): Promise<unknown[]> {
  return new Promise<unknown[]>((resolve, reject) => {
    const open = indexedDB.open(name);
    let absent = false;
    open.onupgradeneeded = () => {
      absent = true;
      open.transaction!.abort();
    };
    open.onerror = () => (absent ? resolve([]) : reject(open.error));
    open.onsuccess = () => {
      const db = open.result;
      if (!db.objectStoreNames.contains(storeName)) {
        db.close();
        return resolve([]);
      }
      const req = db.transaction(storeName).objectStore(storeName).getAll();
      req.onsuccess = () => {
        db.close();
        resolve(req.result);
      };
      req.onerror = () => reject(req.error);
    };
  });
}
