// Shared helpers of the browser tests (landing.test.mjs, noticeboard.test.mjs, operator.test.mjs): a Chromium with a fresh
// profile and the axe-core check.
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

export const baseURL = (process.env.BASE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '')
export const outDir = fileURLToPath(new URL('./out/', import.meta.url))
const axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

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

export async function isReachable(url) {
  try {
    await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(3000) })
    return true
  } catch {
    return false
  }
}

/** A browser with a fresh profile; the page records problems that must fail the test. */
export async function openBrowser(contextOptions = {}) {
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
export async function assertAccessible(page, label) {
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

export async function screenshot(page, name) {
  await page.screenshot({ path: join(outDir, `${name}.png`), fullPage: true })
}

// The published TOTP secret of the demo staff (`epom dev` seeds it; see the README).
export const demoTotpSecret = process.env.E2E_TOTP || 'EPOMDEMOEPOMDEMOEPOMDEMOEPOMDEMO'

/** The RFC 6238 code (SHA-1, 30 s, 6 digits) of a base32 secret at a time step. */
export function totpAt(secretBase32, step) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let bits = ''
  for (const ch of secretBase32.replace(/=+$/, '').toUpperCase()) {
    bits += alphabet.indexOf(ch).toString(2).padStart(5, '0')
  }
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)))
  const counter = Buffer.alloc(8)
  counter.writeBigUInt64BE(BigInt(step))
  const mac = createHmac('sha1', key).update(counter).digest()
  const offset = mac[mac.length - 1] & 0x0f
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0')
}

// The server refuses a code twice (replay protection), so a second sign-in of the same
// account within one 30 s step waits for the next step.
const lastStep = new Map()

/** Signs a demo staff member in through both steps of the sign-in page. */
export async function signInStaff(page, email, password) {
  await page.goto(`${baseURL}/app/prihlaseni`)
  await page.getByLabel(/^E-mail/).fill(email)
  await page.getByLabel(/^Heslo/).fill(password)
  await page.getByRole('button', { name: 'Přihlásit se' }).click()
  const code = page.getByLabel(/^Ověřovací kód/)
  await code.waitFor()
  let step = Math.floor(Date.now() / 30_000)
  if (step <= (lastStep.get(email) ?? -1)) {
    await new Promise((resolve) => setTimeout(resolve, (step + 1) * 30_000 - Date.now() + 200))
    step = Math.floor(Date.now() / 30_000)
  }
  lastStep.set(email, step)
  await code.fill(totpAt(demoTotpSecret, step))
  await page.getByRole('button', { name: 'Ověřit' }).click()
}
