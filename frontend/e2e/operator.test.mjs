// Browser test of the online order form and the regional operator's console against a running
// epom dev (see landing.test.mjs for the variables): a municipality orders epom, the operator of
// Liberecký kraj approves it; each page checked with axe-core. Run with `npm run e2e`.
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { chromium } from 'playwright-core'

const baseURL = (process.env.BASE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '')
const password = process.env.E2E_PASSWORD || 'demo-heslo-2026'
const operatorEmail = process.env.E2E_OPERATOR_EMAIL || 'operator@liberecky-kraj.demo'
const totpSecret = process.env.E2E_TOTP || 'EPOMDEMOEPOMDEMOEPOMDEMOEPOMDEMO'

/** The RFC 6238 code (HMAC-SHA-1, 30 s, 6 digits) of a base32 secret. */
function totp(secretBase32) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let bits = ''
  for (const ch of secretBase32.toUpperCase()) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0')
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)))
  const counter = Buffer.alloc(8)
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30_000)))
  const mac = createHmac('sha1', key).update(counter).digest()
  const offset = mac[mac.length - 1] & 0x0f
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0')
}
const axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

const reachable = await fetch(`${baseURL}/`, { redirect: 'manual', signal: AbortSignal.timeout(3000) }).then(
  () => true,
  () => false,
)
const skip = !reachable && !process.env.E2E_REQUIRED ? `epom server at ${baseURL} is unreachable` : false

async function assertAccessible(page, label) {
  await page.evaluate(axeSource)
  const { violations } = await page.evaluate(() => window.axe.run(document))
  const blocking = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  for (const v of blocking) {
    console.log(`# axe ${label}: [${v.impact}] ${v.id}: ${v.help}`)
    for (const node of v.nodes) console.log(`#   ${node.target.join(' ')}: ${node.failureSummary}`)
  }
  assert.deepEqual(blocking.map((v) => v.id), [], `${label}: serious or critical accessibility violations`)
}

if (skip) {
  test(`epom at ${baseURL}`, { skip }, () => {})
} else {
  describe(`order and operator console at ${baseURL}`, { timeout: 120_000 }, () => {
    let context, page, userDataDir
    before(async () => {
      userDataDir = await mkdtemp(join(tmpdir(), 'epom-e2e-'))
      context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
        headless: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
        locale: 'cs-CZ',
        timezoneId: 'Europe/Prague',
      })
      page = context.pages()[0] ?? (await context.newPage())
    })
    after(async () => {
      await context?.close()
      await rm(userDataDir, { recursive: true, force: true })
    })

    test('a municipality orders epom from the landing page', async () => {
      await page.goto(`${baseURL}/`)
      await page.getByRole('link', { name: 'Objednat epom pro obec' }).click()
      await page.getByRole('heading', { level: 1, name: 'Objednat epom pro obec' }).waitFor()
      await assertAccessible(page, '/app/objednat')
      await page.getByLabel(/^IČO obce/).fill('00276227') // Turnov, Liberecký kraj
      await page.getByText('Obec: Turnov, Liberecký kraj.').waitFor()
      await page.getByLabel(/^Jméno kontaktní osoby/).fill('Jana Turnovská')
      await page.getByLabel(/^E-mail/).fill('jana@turnov.demo')
      await page.getByRole('button', { name: 'Odeslat žádost' }).click()
      await page.getByText('Bez souhlasu s podmínkami žádost nelze odeslat.').waitFor()
      await assertAccessible(page, 'order form with errors')
      await page.getByLabel(/Souhlasím s/).check()
      await page.getByRole('button', { name: 'Odeslat žádost' }).click()
      await page.getByRole('heading', { level: 1, name: 'Děkujeme za objednávku' }).waitFor()
      await assertAccessible(page, 'order thanks')
    })

    test('the operator approves it in the console', async () => {
      await page.goto(`${baseURL}/app/prihlaseni`)
      await page.getByLabel(/^E-mail/).fill(operatorEmail)
      await page.getByLabel(/^Heslo/).fill(password)
      await page.getByRole('button', { name: 'Přihlásit se' }).click()
      // Demo staff and operators have two-factor sign-in on.
      await page.getByLabel(/^Ověřovací kód/).fill(totp(totpSecret))
      await page.getByRole('button', { name: 'Ověřit' }).click()
      await page.getByRole('link', { name: 'Operátor: Liberecký kraj' }).click()
      await page.getByRole('heading', { level: 1, name: 'Obce – Liberecký kraj' }).waitFor()
      await page.getByRole('rowheader').first().waitFor()
      await assertAccessible(page, 'operator console')

      await page.getByRole('link', { name: 'Žádosti o připojení' }).click()
      await page.getByRole('heading', { level: 2, name: 'Turnov' }).waitFor()
      await assertAccessible(page, 'operator requests')
      await page.getByRole('button', { name: 'Schválit Turnov' }).click()
      await page.getByText(/Žádost obce Turnov je schválena/).waitFor()

      await page.getByRole('link', { name: 'Obce kraje' }).click()
      await page.getByRole('searchbox', { name: /Hledat obec/ }).fill('Turnov')
      await page.getByRole('button', { name: 'Hledat' }).click()
      await page.getByRole('link', { name: 'Detail Turnov' }).click()
      await page.getByRole('heading', { level: 1, name: 'Turnov' }).waitFor()
      await assertAccessible(page, 'operator tenant detail')
    })
  })
}
