import { defineConfig } from 'tsup';

export default defineConfig({
  // cli.js is the bin; prime-worker.js is the compute pool's worker-thread script, loaded by URL.
  entry: ['src/cli.ts', 'src/prime-worker.ts'],
  format: ['esm'],
  clean: true,
  sourcemap: true,
  target: 'node20',
  platform: 'node',
  banner: { js: '#!/usr/bin/env node' },
});
