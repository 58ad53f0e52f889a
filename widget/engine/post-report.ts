/**
 * The one way a report is sent. From the page (after a click, where only a keepalive fetch
 * outlives the navigation): JSON as text/plain with its token in the body, a CORS-simple request
 * that needs no preflight, which a keepalive request cannot count on in every engine
 * (PRIVACY.md). From the engine (retrying what earlier pages left): the token in an
 * `Authorization: PrivateToken` header, as RFC 9577 redeems it (the worker can wait for the
 * preflight). Without credentials either way. Never rejects: a network failure is status 0,
 * which keeps the report in the outbox for a later retry.
 */
import { privateTokenAuthorization } from '../../protocol/report-token.ts';
import type { Report } from '../../protocol/wire.ts';

export type ReportSending = 'page' | 'engine';

export async function postReport(url: string, report: Report, from: ReportSending = 'page'): Promise<{ status: number; body: string }> {
  const { token, ...rest } = report;
  const inHeader = from === 'engine' && token !== undefined;
  try {
    const response = await fetch(url, {
      method: 'POST',
      keepalive: from === 'page',
      credentials: 'omit',
      headers: { 'content-type': 'text/plain', ...(inHeader ? { authorization: privateTokenAuthorization(token) } : {}) },
      body: JSON.stringify(inHeader ? rest : report),
    });
    return { status: response.status, body: await response.text() };
  } catch {
    return { status: 0, body: '' };
  }
}
