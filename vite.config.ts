/**
 * Vite builds the widget in three passes (scripts/build-widget.ts drives them):
 *   --mode engine : the Web Worker, an ES module with content-hashed chunks (tfjs lives here)
 *   --mode memory-store : the in-memory store, one content-hashed plain script the loader puts
 *                   in front of the engine's text only for a worker that may not use the device's storage
 *   --mode render : the renderer (preact, creatives), one content-hashed ES module the loader
 *                   adds as a module script carrying the page's CSP nonce
 *   --mode loader : the script tag, one IIFE that knows the others' hashed names
 *   --mode dashboard : the merchant dashboard (dashboard/), served by the edge at /v1/admin/
 * Both land in dist/edge-assets/v1/, which the edge worker serves.
 */
import path from 'node:path';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

const root = import.meta.dirname;
/** Where the built widget goes: the edge's assets, unless a caller (the size-budget test) builds elsewhere. */
export const ASSETS_DIR = process.env.VITRINE_ASSETS_DIR ?? path.join(root, 'dist/edge-assets/v1');

export default defineConfig(({ mode }) => {
  const common = {
    configFile: false as const,
    root,
    logLevel: 'warn' as const,
    plugins: [preact({ prefreshEnabled: false, devToolsEnabled: false })],
  };
  /** A content-hashed chunk beside the engine's (which empties the directory first), one file, no legal comments. */
  const chunkBuild = (entry: string, entryFileNames: string, lib: { formats: ('es' | 'iife')[]; name?: string }) => ({
    ...common,
    build: {
      outDir: path.join(ASSETS_DIR, 'chunks'),
      emptyOutDir: false,
      target: 'es2022',
      minify: true,
      lib: { entry: path.join(root, entry), ...lib },
      rolldownOptions: { output: { entryFileNames, codeSplitting: false, comments: { legal: false } } },
    },
  });
  if (mode === 'engine') {
    return {
      ...common,
      build: {
        outDir: path.join(ASSETS_DIR, 'chunks'),
        emptyOutDir: true,
        target: 'es2022',
        minify: true,
        lib: { entry: path.join(root, 'widget/engine/index.ts'), formats: ['es'] },
        rolldownOptions: {
          output: {
            entryFileNames: 'engine-[hash].js',
            // One self-contained file: the worker runs from a blob of this file's text, and a
            // worker on a page with a strict CSP may load no other script (engine-connection.ts).
            codeSplitting: false,
            // tfjs ships @license comments that nearly double the chunk; the licenses are in
            // node_modules and THIRD-PARTY notices, not in every shopper's download.
            comments: { legal: false },
          },
        },
      },
    };
  }
  if (mode === 'memory-store') {
    // A plain script in its own function scope: the loader puts its text in front of the
    // engine module's in one blob, where top-level names of the two must not meet.
    return chunkBuild('widget/engine/memory-store.ts', 'memory-store-[hash].js', { formats: ['iife'], name: 'vitrineMemoryStore' });
  }
  if (mode === 'dashboard') {
    return {
      ...common,
      root: path.join(root, 'dashboard'),
      base: '/v1/admin/',
      build: { outDir: path.join(ASSETS_DIR, 'admin'), emptyOutDir: true, target: 'es2022', minify: true, assetsDir: 'assets' },
    };
  }
  if (mode === 'render') {
    return chunkBuild('widget/render/index.ts', 'render-[hash].js', { formats: ['es'] });
  }
  return {
    ...common,
    define: {
      __VITRINE_ENGINE_FILE__: JSON.stringify(process.env.VITRINE_ENGINE_FILE ?? 'engine.js'),
      __VITRINE_RENDER_FILE__: JSON.stringify(process.env.VITRINE_RENDER_FILE ?? 'render.js'),
      __VITRINE_MEMORY_STORE_FILE__: JSON.stringify(process.env.VITRINE_MEMORY_STORE_FILE ?? 'memory-store.js'),
    },
    build: {
      outDir: ASSETS_DIR,
      emptyOutDir: false,
      target: 'es2022',
      minify: true,
      lib: { entry: path.join(root, 'widget/loader/index.ts'), formats: ['iife'], name: 'vitrine', fileName: () => 'vitrine.js' },
      rolldownOptions: { output: { comments: { legal: false } } },
    },
  };
});
