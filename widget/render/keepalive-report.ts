/**
 * Sending reports from the page. The engine builds them; the page sends them because only a
 * page fetch with keepalive survives the navigation that usually follows a click.
 */
import type { PreparedReport } from '../engine/engine-api.ts';
import type { OutcomeSink } from '../loader/engine-session.ts';
import { postReport } from '../engine/post-report.ts';

export function sendPreparedReport(engine: OutcomeSink) {
  return (prepared: PreparedReport | null) =>
    prepared && postReport(prepared.url, prepared.report).then(({ status, body }) => engine.reportAnswered(prepared.reportId, status, body));
}
