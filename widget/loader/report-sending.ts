/**
 * Sending reports from the page. The engine builds them; the page sends them because only a
 * page fetch with keepalive survives the navigation that usually follows a click. JSON goes as
 * text/plain so the request is CORS-simple (no preflight), and without credentials.
 */
import type { Remote } from 'comlink';
import type { EngineApi, PreparedReport } from '../engine/engine-api.ts';

export function sendPreparedReport(engine: Remote<EngineApi>) {
  return async (prepared: PreparedReport | null): Promise<void> => {
    if (!prepared) return;
    let status = 0;
    let body = '';
    try {
      const response = await fetch(prepared.url, {
        method: 'POST',
        keepalive: true,
        credentials: 'omit',
        headers: { 'content-type': 'text/plain' },
        body: JSON.stringify(prepared.report),
      });
      status = response.status;
      body = await response.text();
    } catch {
      status = 0; // the engine keeps it in the outbox and retries on a later page
    }
    await engine.reportAnswered(prepared.reportId, status, body);
  };
}
