/**
 * `npm run build`: the engine worker, its in-memory store and the renderer first (their entry names carry content
 * hashes), then the loader with those names compiled in. Prints the gzip sizes a shopper downloads.
 */
import { copyFileSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';

const root = path.resolve(import.meta.dirname, '..');
// VITRINE_ASSETS_DIR builds somewhere else (the size-budget test does, to leave dist alone).
const assets = process.env.VITRINE_ASSETS_DIR ?? path.join(root, 'dist/edge-assets/v1');
const configFile = path.join(root, 'vite.config.ts');

rmSync(assets, { recursive: true, force: true });
await build({ configFile, mode: 'engine' });
const engineFile = readdirSync(path.join(assets, 'chunks')).find((f) => /^engine-[\w-]+\.js$/.test(f));
if (!engineFile) throw new Error('the engine build produced no engine-<hash>.js');
process.env.VITRINE_ENGINE_FILE = engineFile;
await build({ configFile, mode: 'memory-store' });
const memoryStoreFile = readdirSync(path.join(assets, 'chunks')).find((f) => /^memory-store-[\w-]+\.js$/.test(f));
if (!memoryStoreFile) throw new Error('the memory-store build produced no memory-store-<hash>.js');
process.env.VITRINE_MEMORY_STORE_FILE = memoryStoreFile;
await build({ configFile, mode: 'render' });
const renderFile = readdirSync(path.join(assets, 'chunks')).find((f) => /^render-[\w-]+\.js$/.test(f));
if (!renderFile) throw new Error('the render build produced no render-<hash>.js');
process.env.VITRINE_RENDER_FILE = renderFile;
await build({ configFile, mode: 'loader' });
await build({ configFile, mode: 'dashboard' });
// The page API's types, beside the script (packages/vitrine-types publishes the same file).
copyFileSync(path.join(root, 'widget/vitrine.d.ts'), path.join(assets, 'vitrine.d.ts'));

const gz = (file: string) => (gzipSync(readFileSync(file), { level: 9 }).length / 1024).toFixed(1);
const chunks = readdirSync(path.join(assets, 'chunks'));
console.log(
  `widget built in ${path.relative(root, assets)}: vitrine.js ${gz(path.join(assets, 'vitrine.js'))} kB gzip; engine ${engineFile}, renderer ${renderFile}; chunks:`,
);
for (const chunk of chunks) console.log(`  chunks/${chunk} ${gz(path.join(assets, 'chunks', chunk))} kB gzip`);
