// Browser test of the online order form and the regional operator's console against a running
// epom dev (see landing.test.mjs for the variables): a municipality orders epom, the operator of
// Liberecký kraj approves it; each page checked with axe-core. Run with `npm run e2e`.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { assertAccessible, baseURL, isReachable, openBrowser, signInStaff } from './browser.mjs'

const password = process.env.E2E_PASSWORD || 'demo-heslo-2026'
const operatorEmail = process.env.E2E_OPERATOR_EMAIL || 'operator@liberecky-kraj.demo'

const reachable = await isReachable(`${baseURL}/`)
const skip = !reachable && !process.env.E2E_REQUIRED ? `epom server at ${baseURL} is unreachable` : false

if (skip) {
  test(`epom at ${baseURL}`, { skip }, () => {})
} else {
  describe(`order and operator console at ${baseURL}`, { timeout: 120_000 }, () => {
    let browser, page
    before(async () => {
      browser = await openBrowser()
      page = browser.page
    })
    after(async () => {
      await browser?.close()
      assert.deepEqual(browser?.problems ?? [], [], 'no CSP violations and no missing app files')
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
      // Demo staff and operators have two-factor sign-in on.
      await signInStaff(page, operatorEmail, password)
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
