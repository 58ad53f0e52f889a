import { mkdtempSync } from 'node:fs'; import { tmpdir } from 'node:os'; import path from 'node:path';
import { applyMigrations, startLocalEdge } from './scripts/local-edge.ts';
import { EdgeAdminClient } from './model-training/src/edge-admin-client.ts';
import { obtainReportToken } from './widget/engine/report-token-client.ts';
const state = mkdtempSync(path.join(tmpdir(), 'tok-'));
applyMigrations(path.join(state, 'w'));
const edge = await startLocalEdge(8831, path.join(state, 'w'), { ADMIN_TOKENS: JSON.stringify({ s: 'tok-admin-token-123456789' }) });
try {
const client = new EdgeAdminClient(edge.url, 's', 'tok-admin-token-123456789');
await client.putSite({ name: 'S', allowedOrigins: [], minCohort: 5, roundSeconds: 60 });
const round = (await client.config()).round.id;
for (let i = 0; i < 4; i++) { const t0 = performance.now(); const r = await obtainReportToken(edge.url, 's', round, (u, init) => fetch(u, { ...init, headers: { ...(init?.headers as any), 'cf-connecting-ip': '10.0.0.' + i } })); console.log(i, performance.now() - t0, 'refused' in r ? r.refused : 'ok'); }
} finally { await edge.stop(); }
