/**
 * Sending reports from the page. The engine builds them; the page sends them because only a
 * page fetch with keepalive survives the navigation that usually follows a click.
 */
import type { Remote } from 'comlink';
import type { EngineApi, PreparedReport } from '../engine/engine-api.ts';
import { postReport } from '../engine/report-transport.ts';

export function sendPreparedReport(engine: Remote<EngineApi>) {
  return (prepared: PreparedReport | null) =>
    prepared && postReport(prepared.url, prepared.report).then(({ status, body }) => engine.reportAnswered(prepared.reportId, status, body));
}
