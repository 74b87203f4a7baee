import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

/**
 * The console lives under /console/ both locally (npm start) and on its CloudFront distribution, so one build
 * with absolute asset URLs fits both, and deep links (/console/keys) that fall back to index.html still load it.
 */
export default defineConfig({
  base: '/console/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    chunkSizeWarningLimit: 1500,
  },
  server: {
    // `npm run dev -w console` next to `npm start`: the API is proxied, so the dev console is same-origin too.
    proxy: {
      '/admin': 'http://127.0.0.1:8866',
      '/user': 'http://127.0.0.1:8866',
      '/v1': 'http://127.0.0.1:8866',
    },
  },
});
