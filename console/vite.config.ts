import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The Console: a static single-page app under /console/ (served by the local runtime, or from S3 behind
 * CloudFront). `npm run console:build` writes console/dist; the local runtime builds it in memory.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('./dist', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
  },
});
