/**
 * The one way a report is sent: from the page (after a click, where only a keepalive fetch
 * outlives the navigation) or from the engine (retrying what earlier pages left). Its token goes
 * in an `Authorization: PrivateToken` header, as RFC 9577 redeems it, which makes the request
 * need a CORS preflight: measured in Chromium, Firefox ESR and WebKitGTK, a keepalive request
 * with its preflight still reaches the edge as its page navigates away (test/e2e/journeys.spec.ts,
 * PRIVACY.md); where one does not, the report stays in the outbox and the next page's engine
 * sends it again (one token, one report id: counted once). Without credentials. Never rejects:
 * a network failure is status 0, which keeps the report in the outbox for a later retry.
 */
import { privateTokenAuthorization } from '../../protocol/report-token.ts';
import type { Report } from '../../protocol/wire.ts';

export type ReportSending = 'page' | 'engine';

export async function postReport(url: string, report: Report, from: ReportSending = 'page'): Promise<{ status: number; body: string }> {
  const { token, ...rest } = report;
  try {
    const response = await fetch(url, {
      method: 'POST',
      keepalive: from === 'page',
      credentials: 'omit',
      headers: { 'content-type': 'text/plain', ...(token === undefined ? {} : { authorization: privateTokenAuthorization(token) }) },
      body: JSON.stringify(rest),
    });
    return { status: response.status, body: await response.text() };
  } catch {
    return { status: 0, body: '' };
  }
}
