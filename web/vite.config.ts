import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'

// The dev server proxies the API (and its websocket) to a running Switchboard
// server so the app is developed under one origin, exactly as it is served in
// production. Override the target with SWITCHBOARD_DEV_API.
const api = process.env.SWITCHBOARD_DEV_API ?? 'http://127.0.0.1:8080'

export default defineConfig(({ command }) => ({
  plugins: [vue()],
  // The app uses the Composition API only; dropping the Options API and the
  // production devtools hooks keeps the bundle smaller. Tests keep them.
  define:
    command === 'build'
      ? {
          __VUE_OPTIONS_API__: 'false',
          __VUE_PROD_DEVTOOLS__: 'false',
          __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
        }
      : {},
  server: {
    proxy: {
      '/api': { target: api, ws: true },
      '/healthz': { target: api },
    },
  },
  preview: {
    proxy: {
      '/api': { target: api, ws: true },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Source maps stay out of the embedded binary.
    sourcemap: false,
    reportCompressedSize: true,
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
    restoreMocks: true,
    unstubGlobals: true,
  },
}))
