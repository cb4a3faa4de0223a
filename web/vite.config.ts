import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'

// The dev server proxies the API (and its websocket) to a running Switchboard
// server so the app is developed under one origin, exactly as it is served in
// production. Override the target with SWITCHBOARD_DEV_API.
const api = process.env.SWITCHBOARD_DEV_API ?? 'http://127.0.0.1:8080'
// The server accepts the websocket of a cookie session only from its public URL's origin; the dev
// server is another origin, so the proxied upgrade presents the server's own (override with
// SWITCHBOARD_DEV_ORIGIN when SWITCHBOARD_PUBLIC_URL differs from the proxy target).
const origin = process.env.SWITCHBOARD_DEV_ORIGIN ?? api
const apiProxy = {
  target: api,
  ws: true,
  configure: (proxy: { on: (event: 'proxyReqWs', fn: (req: { setHeader: (k: string, v: string) => void }) => void) => void }) => {
    proxy.on('proxyReqWs', (req) => req.setHeader('Origin', origin))
  },
}

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
      '/api': apiProxy,
      '/healthz': { target: api },
    },
  },
  preview: {
    proxy: {
      '/api': apiProxy,
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
    setupFiles: ['src/testing/setup.ts'],
    restoreMocks: true,
    unstubGlobals: true,
  },
}))
