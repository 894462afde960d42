/// <reference types="vitest/config" />
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import react from '@vitejs/plugin-react'
import { defineConfig, type Plugin } from 'vite'

// The design system's React components (GovFormInput, GovFormSelect, …) fetch their icons at run
// time from the fixed absolute path /assets/icons/components/{name}.svg, outside the SPA's /app/
// base. This plugin ships that icon set as dist/icons/components/*.svg for the Go server to answer
// /assets/icons/ with, and serves the same path in `vite` and `vite preview`.
function designSystemIcons(): Plugin {
  const require = createRequire(import.meta.url)
  const iconDir = join(dirname(require.resolve('@gov-design-system-ce/icons/package.json')), 'lib/components')
  const route = '/assets/icons/components/'

  // Mounted under `route`, so connect hands over req.url relative to it ("/chevron-down.svg?v=v").
  const serve = (req: IncomingMessage, res: ServerResponse, next: () => void) => {
    const name = new URL(req.url ?? '', 'http://localhost').pathname.slice(1)
    const file = join(iconDir, name)
    if (!/^[a-z0-9-]+\.svg$/.test(name) || !existsSync(file)) return next()
    res.setHeader('Content-Type', 'image/svg+xml')
    res.end(readFileSync(file))
  }

  return {
    name: 'epom:design-system-icons',
    configureServer: (server) => void server.middlewares.use(route, serve),
    configurePreviewServer: (server) => void server.middlewares.use(route, serve),
    generateBundle() {
      for (const name of readdirSync(iconDir)
        .filter((n) => n.endsWith('.svg'))
        .sort()) {
        this.emitFile({
          type: 'asset',
          fileName: `icons/components/${name}`,
          source: readFileSync(join(iconDir, name)),
        })
      }
    },
  }
}

export default defineConfig({
  base: '/app/',
  plugins: [react(), designSystemIcons()],
  build: {
    // Go reads dist/.vite/manifest.json to link the CSS of the src/public.ts entry into the
    // server-rendered public pages.
    manifest: true,
    rolldownOptions: {
      input: { app: 'index.html', public: 'src/public.ts' },
    },
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:8080', '/o/': 'http://127.0.0.1:8080' },
  },
  test: {
    // e2e/ holds the browser tests, which node:test runs (npm run e2e).
    include: ['src/**/*.test.{ts,tsx}'],
    environment: 'jsdom',
    setupFiles: ['src/test/setup.ts'],
    restoreMocks: true,
    // @gov-design-system-ce/react publishes ESM with extensionless relative imports, which Node
    // cannot load; letting Vite transform it resolves them as the build does.
    server: { deps: { inline: [/@gov-design-system-ce\/react/] } },
    unstubGlobals: true,
    // Pages checked with axe-core in jsdom take seconds on a loaded 2-core CI machine; the
    // default 5 s made them fail for time, not for behaviour.
    testTimeout: 30_000,
  },
})
