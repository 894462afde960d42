// Browser test of a running epom server: the public landing page of a municipality, signing in to
// the SPA and its settings page, each checked with axe-core. Run with `npm run e2e`.
//
//   BASE_URL      server to test (default http://127.0.0.1:8080)
//   E2E_EMAIL     demo staff account of Liberec (default starosta@liberec.demo)
//   E2E_PASSWORD  its password (default demo-heslo-2026)
//   E2E_REQUIRED  when set, an unreachable server fails the run instead of skipping it (CI)
//
// Screenshots go to e2e/out/.
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

const baseURL = (process.env.BASE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '')
const email = process.env.E2E_EMAIL || 'starosta@liberec.demo'
const password = process.env.E2E_PASSWORD || 'demo-heslo-2026'
const outDir = fileURLToPath(new URL('./out/', import.meta.url))
const axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

// Flags for Debian's chromium as root in a sandbox without internet: no first-run UI, and no
// background connections to Google's services, which this network refuses.
const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

async function isReachable(url) {
  try {
    await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(3000) })
    return true
  } catch {
    return false
  }
}

const reachable = await isReachable(`${baseURL}/`)
const skip =
  !reachable && !process.env.E2E_REQUIRED
    ? `epom server at ${baseURL} is unreachable: start it or set BASE_URL (E2E_REQUIRED=1 makes this a failure)`
    : false

/** A browser with a fresh profile; the page records problems that must fail the test. */
async function openBrowser(contextOptions = {}) {
  const userDataDir = await mkdtemp(join(tmpdir(), 'epom-e2e-'))
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: chromiumArgs,
    locale: 'cs-CZ',
    timezoneId: 'Europe/Prague',
    viewport: { width: 1280, height: 900 },
    ...contextOptions,
  })
  const page = context.pages()[0] ?? (await context.newPage())
  const problems = []
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) {
      problems.push(`CSP violation: ${message.text()}`)
    }
  })
  // The SPA's own files and the design-system icons are part of the serving contract with Go.
  page.on('response', (response) => {
    const { origin, pathname } = new URL(response.url())
    if (
      origin === new URL(baseURL).origin &&
      /^\/(app\/assets|assets\/icons)\//.test(pathname) &&
      response.status() >= 400
    ) {
      problems.push(`${response.status()} for ${pathname}`)
    }
  })
  const close = async () => {
    await context.close()
    await rm(userDataDir, { recursive: true, force: true })
  }
  return { page, problems, close }
}

/** Runs axe-core on the page and fails on serious or critical violations, listing them. */
async function assertAccessible(page, label) {
  // Evaluated through the DevTools protocol, so the page's CSP (script-src 'self') does not block it.
  await page.evaluate(axeSource)
  const { violations } = await page.evaluate(() => window.axe.run(document))
  const blocking = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  for (const violation of blocking) {
    console.log(`# axe ${label}: [${violation.impact}] ${violation.id}: ${violation.help} (${violation.helpUrl})`)
    for (const node of violation.nodes) console.log(`#   ${node.target.join(' ')}: ${node.failureSummary}`)
  }
  assert.deepEqual(
    blocking.map((v) => v.id),
    [],
    `${label}: serious or critical accessibility violations`,
  )
}

async function screenshot(page, name) {
  await page.screenshot({ path: join(outDir, `${name}.png`), fullPage: true })
}

// One skipped test when there is no server to test, so the runner reports it as skipped.
if (skip) {
  test(`epom at ${baseURL}`, { skip }, () => {})
} else {
  describe(`epom at ${baseURL}`, { timeout: 120_000 }, () => {
    before(async () => {
      assert.ok(reachable, `epom server at ${baseURL} is unreachable and E2E_REQUIRED is set`)
      await mkdir(outDir, { recursive: true })
    })

    describe('with JavaScript', () => {
      let browser
      before(async () => {
        browser = await openBrowser()
      })
      after(async () => {
        await browser?.close()
      })

      test('the landing page of Liberec is accessible', async () => {
        const { page, problems } = browser
        await page.goto(`${baseURL}/o/liberec`)

        assert.match(await page.locator('h1').innerText(), /Liberec/)
        await screenshot(page, 'landing')
        await assertAccessible(page, '/o/liberec')
        assert.deepEqual(problems, [])
      })

      test('a member of Liberec signs in and opens the settings', async () => {
        const { page, problems } = browser
        await page.goto(`${baseURL}/app/prihlaseni`)
        await page.getByRole('heading', { level: 1, name: 'Přihlášení' }).waitFor()
        await screenshot(page, 'sign-in')
        await assertAccessible(page, '/app/prihlaseni')

        await page.getByLabel(/^E-mail/).fill(email)
        await page.getByLabel(/^Heslo/).fill(password)
        await page.getByRole('button', { name: 'Přihlásit se' }).click()

        const header = page.getByRole('banner')
        await header
          .getByText(/Liberec/)
          .first()
          .waitFor()
        await page.getByRole('heading', { level: 1 }).waitFor()
        await screenshot(page, 'overview')
        await assertAccessible(page, 'overview')

        await page
          .getByRole('navigation', { name: 'Hlavní navigace' })
          .getByRole('link', { name: 'Nastavení obce' })
          .click()
        await page.getByRole('heading', { level: 1, name: 'Nastavení obce' }).waitFor()
        const displayName = page.getByLabel(/^Název obce pro zobrazení/)
        await displayName.waitFor()
        assert.notEqual(await displayName.inputValue(), '', 'the settings form shows the stored display name')
        assert.equal(
          await page.evaluate(() => document.activeElement?.tagName),
          'H1',
          'focus moves to the new page heading',
        )
        await screenshot(page, 'settings')
        await assertAccessible(page, 'settings')

        // Saving the settings leaves an entry in the municipality's security log.
        await page.getByRole('button', { name: 'Uložit nastavení' }).click()
        const nav = page.getByRole('navigation', { name: 'Hlavní navigace' })
        await nav.getByRole('link', { name: 'Bezpečnostní záznamy' }).click()
        await page.getByRole('heading', { level: 1, name: 'Bezpečnostní záznamy' }).waitFor()
        await page.getByRole('rowheader', { name: /Změna nastavení obce/ }).first().waitFor()
        await screenshot(page, 'audit')
        await assertAccessible(page, 'audit')

        // A data export runs as a background job (outbox → relay → worker) and e-mails the link.
        await nav.getByRole('link', { name: 'Export dat' }).click()
        await page.getByRole('heading', { level: 1, name: 'Export dat obce' }).waitFor()
        await page.getByRole('button', { name: 'Vytvořit export' }).click()
        await page.getByRole('link', { name: 'Stáhnout archiv' }).first().waitFor({ timeout: 60_000 })
        await screenshot(page, 'export')
        await assertAccessible(page, 'export')

        await nav.getByRole('link', { name: 'Odeslaná pošta' }).click()
        await page.getByRole('heading', { level: 1, name: 'Odeslaná pošta' }).waitFor()
        await page.getByRole('row').nth(1).waitFor({ timeout: 30_000 })
        await screenshot(page, 'mail-log')
        await assertAccessible(page, 'mail-log')
        assert.deepEqual(problems, [])
      })
    })

    test('the landing page works without JavaScript', async () => {
      const { page, close } = await openBrowser({ javaScriptEnabled: false })
      try {
        await page.goto(`${baseURL}/o/liberec`)
        assert.match(await page.locator('h1').innerText(), /Liberec/)
        await screenshot(page, 'landing-no-js')
      } finally {
        await close()
      }
    })
  })
}
