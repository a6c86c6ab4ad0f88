import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

/**
 * Libraries in chunks of their own, apart from the app's code: they change less often than it (so
 * browsers keep them cached across releases), and the browser fetches them side by side.
 */
const VENDOR_CHUNKS: [chunk: string, path: RegExp][] = [
  ['react', /\/node_modules\/(react|react-dom|scheduler)\//],
  ['router', /\/node_modules\/(react-router|cookie|set-cookie-parser)\//],
  ['query', /\/node_modules\/@tanstack\/(query-core|react-query)\//],
  // The API's schemas and client: zod and the two workspace packages that are made of it.
  ['api', /\/node_modules\/zod\/|\/packages\/(contracts|client)\//],
];

export default defineConfig({
  plugins: [react()],
  resolve: {
    // The workspace packages export their TypeScript sources under "source", so the UI bundles
    // them directly instead of depending on a prior `tsc -b` of contracts and client.
    conditions: ['source', 'browser', 'module', 'import', 'default'],
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 600,
    rollupOptions: {
      output: {
        manualChunks: (id) => VENDOR_CHUNKS.find(([, path]) => path.test(id))?.[0],
      },
      onwarn(warning, warn) {
        // zod ships comments Rollup cannot place; harmless, and it would bury real warnings.
        if (warning.code === 'INVALID_ANNOTATION' && warning.id?.includes('/node_modules/zod/')) return;
        warn(warning);
      },
    },
  },
  server: {
    // `vite dev` against a running `forja server` on its default port.
    proxy: { '/api': 'http://127.0.0.1:5050' },
  },
});
