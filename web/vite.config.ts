import { defineConfig, type HtmlTagDescriptor, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import type { OutputChunk } from 'rollup';

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

/**
 * Has index.html fetch a lazy page's chunk (and the chunks it imports) beside the main bundle, so
 * the page's code is there by the time the app asks for it instead of one round trip later.
 */
function preloadPage(source: string): Plugin {
  return {
    name: 'forja-preload-page',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(html, { bundle }) {
        if (!bundle) return html;
        const chunks = new Map(Object.values(bundle).flatMap((c) => (c.type === 'chunk' ? [[c.fileName, c] as const] : [])));
        const page = [...chunks.values()].find((c) => c.facadeModuleId?.endsWith(source));
        if (!page) throw new Error(`preloadPage: no chunk holds ${source}`);
        const wanted = new Set<OutputChunk>();
        const add = (c: OutputChunk | undefined) => {
          if (!c || wanted.has(c)) return;
          wanted.add(c);
          for (const f of c.imports) add(chunks.get(f));
        };
        add(page);
        const tags: HtmlTagDescriptor[] = [];
        for (const c of wanted) {
          if (!html.includes(c.fileName))
            tags.push({ tag: 'link', attrs: { rel: 'modulepreload', crossorigin: true, href: `/${c.fileName}` }, injectTo: 'head' });
          for (const css of c.viteMetadata?.importedCss ?? [])
            if (!html.includes(css)) tags.push({ tag: 'link', attrs: { rel: 'preload', as: 'style', href: `/${css}` }, injectTo: 'head' });
        }
        return tags;
      },
    },
  };
}

export default defineConfig({
  // The runs page of an experiment is where people spend the day.
  plugins: [react(), preloadPage('/src/pages/tracking/Experiment.tsx')],
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
