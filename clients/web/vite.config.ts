/**
 * Builds the notification centre into clients/web/dist, served by the hub at /app (src/transport/app-static.ts):
 * hashed asset names under /app/assets/ (cached for a year), no CDN, nothing fetched at run time.
 * `npm run dev -w @herald/web` serves it with hot reload and proxies /graphql (HTTP, SSE and WebSocket) to the hub
 * at HERALD_URL (default http://127.0.0.1:4000).
 */
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';

const hub = process.env['HERALD_URL'] ?? 'http://127.0.0.1:4000';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/app/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: true, chunkSizeWarningLimit: 600 },
  server: { port: 5173, proxy: { '/graphql': { target: hub, ws: true, changeOrigin: true } } },
  preview: { port: 4173 },
});
