import { defineConfig } from 'vite';

// Served by `almanac serve` under /ui/ (docs/ui.md): hashed files in assets/, no inline script.
export default defineConfig({
  base: '/ui/',
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    target: 'es2020',
  },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
  },
});
