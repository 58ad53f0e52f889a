/**
 * The one way a report is sent, from the page (after a click, where only a keepalive fetch
 * outlives the navigation) or from the engine (retrying what earlier pages left). JSON goes as
 * text/plain so the request is CORS-simple (no preflight), without credentials. Never rejects:
 * a network failure is status 0, which keeps the report in the outbox for a later retry.
 */
import type { Report } from '../../protocol/wire.ts';

export async function postReport(url: string, report: Report): Promise<{ status: number; body: string }> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      keepalive: true,
      credentials: 'omit',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify(report),
    });
    return { status: response.status, body: await response.text() };
  } catch {
    return { status: 0, body: '' };
  }
}
