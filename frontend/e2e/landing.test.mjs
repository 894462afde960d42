// Browser test of a running epom server: the public landing page of a municipality, signing in to
// the SPA and its settings page, each checked with axe-core. Run with `npm run e2e`.
//
//   BASE_URL      server to test (default http://127.0.0.1:8080)
//   E2E_EMAIL     demo staff account of Liberec (default starosta@liberec.demo)
//   E2E_PASSWORD  its password (default demo-heslo-2026)
//   E2E_TOTP      its TOTP secret, base32 (default the published demo secret of `epom dev`)
//   E2E_REQUIRED  when set, an unreachable server fails the run instead of skipping it (CI)
//
// Screenshots go to e2e/out/.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import { after, before, describe, test } from 'node:test'
import {
  assertAccessible,
  baseURL,
  demoTotpSecret,
  isReachable,
  openBrowser,
  outDir,
  screenshot,
  totpAt,
} from './browser.mjs'

const email = process.env.E2E_EMAIL || 'starosta@liberec.demo'
const password = process.env.E2E_PASSWORD || 'demo-heslo-2026'

const reachable = await isReachable(`${baseURL}/`)
const skip =
  !reachable && !process.env.E2E_REQUIRED
    ? `epom server at ${baseURL} is unreachable: start it or set BASE_URL (E2E_REQUIRED=1 makes this a failure)`
    : false

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

        // Demo staff have two-factor sign-in on: the second step asks for the app's code.
        const code = page.getByLabel(/^Ověřovací kód/)
        await code.waitFor()
        assert.equal(await code.getAttribute('autocomplete'), 'one-time-code')
        await screenshot(page, 'sign-in-code')
        await assertAccessible(page, 'sign-in second step')
        await code.fill(totpAt(demoTotpSecret, Math.floor(Date.now() / 30_000)))
        await page.getByRole('button', { name: 'Ověřit' }).click()

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
        // Only once the save has answered is its entry in the log to be found.
        await page.getByText('Nastavení bylo uloženo.').waitFor()
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

        // Account security: two-factor state, recovery codes and this very session.
        await header.getByRole('button', { name: 'Jana Nováková' }).click()
        await header.getByRole('link', { name: 'Zabezpečení účtu' }).click()
        await page.getByRole('heading', { level: 1, name: 'Zabezpečení účtu' }).waitFor()
        await page.getByText('Dvoufázové ověření je zapnuté', { exact: false }).first().waitFor()
        await page.getByRole('table', { name: 'Kde jste přihlášeni' }).getByText('Toto zařízení').waitFor()
        await screenshot(page, 'account')
        await assertAccessible(page, 'account')

        // tokens: an API token made on its page works with curl-like clients until it is revoked.
        await page.goto(`${baseURL}/app/t/liberec`)
        await nav.getByRole('link', { name: 'API tokeny' }).click()
        await page.getByRole('heading', { level: 1, name: 'API tokeny' }).waitFor()
        await page.getByLabel(/^Název tokenu/).fill('E2E klient')
        await page.getByRole('group', { name: 'Nastavení obce' }).getByRole('checkbox', { name: /tenant.settings:read/ }).check()
        await page.getByRole('button', { name: 'Vytvořit token' }).click()
        const secret = await page.getByLabel('Token', { exact: true }).inputValue()
        assert.match(secret, /^epom_[a-z2-7]{26}_[a-z2-7]{52}$/)
        await screenshot(page, 'tokens')
        await assertAccessible(page, 'tokens')
        const withToken = (path) =>
          page.request.get(`${baseURL}${path}`, { headers: { Authorization: `Bearer ${secret}` } })
        assert.equal((await withToken('/api/v1/tenants/liberec/settings')).status(), 200)
        assert.equal((await withToken('/api/v1/tenants/liberec/members')).status(), 403)
        await page.getByRole('button', { name: 'Token mám uložený' }).click()
        await page.getByRole('button', { name: 'Odvolat token E2E klient' }).click()
        await page.getByRole('button', { name: 'Ano, odvolat' }).click()
        await page.getByText('Token „E2E klient“ byl odvolán.').waitFor()
        assert.equal((await withToken('/api/v1/tenants/liberec/settings')).status(), 401)
        assert.deepEqual(problems, [])
      })

      // members: runs after the sign-in above, in the same browser.
      test('the admin invites a staff member and edits roles', async () => {
        const { page, problems } = browser
        const nav = page.getByRole('navigation', { name: 'Hlavní navigace' })
        await nav.getByRole('link', { name: 'Pracovníci' }).click()
        await page.getByRole('heading', { level: 1, name: 'Pracovníci' }).waitFor()
        await page.getByRole('heading', { level: 2, name: 'Pozvat pracovníka' }).waitFor()
        await screenshot(page, 'members')
        await assertAccessible(page, 'members')

        await page.getByRole('button', { name: /^Upravit role: / }).first().click()
        const dialog = page.getByRole('dialog')
        await dialog.getByRole('checkbox', { name: 'Auditor' }).waitFor()
        await screenshot(page, 'members-roles-dialog')
        await assertAccessible(page, 'members roles dialog')
        await dialog.getByRole('button', { name: 'Zrušit' }).click()
        await dialog.waitFor({ state: 'detached' })

        const address = `e2e-${Date.now()}@liberec.demo`
        await page.getByLabel(/^E-mail/).fill(address)
        await page.getByLabel(/^Jméno/).fill('Pozvaný Pracovník')
        await page.getByRole('button', { name: 'Pozvat pracovníka' }).click()
        await page.getByText(`Pozvánka byla odeslána na ${address}.`).waitFor()
        await page.getByRole('rowheader', { name: address }).waitFor()
        await assertAccessible(page, 'members after inviting')

        // A link that is not (or no longer) valid says so.
        await page.goto(`${baseURL}/app/pozvanka?token=${'x'.repeat(43)}`)
        await page.getByText('Odkaz s pozvánkou není platný').waitFor()
        await screenshot(page, 'invitation-invalid')
        await assertAccessible(page, 'invitation page')
        assert.deepEqual(problems, [])
      })

      // The admin, still signed in, resets the auditor's lost second factor; the
      // auditor then signs in with the password alone and is sent to enrolment.
      test('the admin resets a member’s two-factor sign-in and the member must enrol again', async () => {
        const { page, problems } = browser
        await page.goto(`${baseURL}/app/t/liberec/pracovnici`)
        await page.getByRole('heading', { level: 1, name: 'Pracovníci' }).waitFor()
        await page.getByRole('button', { name: 'Resetovat dvoufázové ověření: Karel Černý' }).click()
        const dialog = page.getByRole('dialog')
        const reason = dialog.getByLabel(/^Důvod/)
        await reason.waitFor()
        await screenshot(page, 'members-mfa-reset-dialog')
        await assertAccessible(page, 'members mfa reset dialog')
        await reason.fill('E2E: ztracený telefon, totožnost ověřena osobně')
        await dialog.getByRole('button', { name: 'Resetovat' }).click()
        await page.getByText('Dvoufázové ověření pracovníka Karel Černý bylo zrušeno', { exact: false }).waitFor()
        assert.deepEqual(problems, [])

        const auditor = await openBrowser()
        try {
          const other = auditor.page
          await other.goto(`${baseURL}/app/prihlaseni`)
          await other.getByLabel(/^E-mail/).fill('auditor@liberec.demo')
          await other.getByLabel(/^Heslo/).fill(password)
          await other.getByRole('button', { name: 'Přihlásit se' }).click()
          // No code step: the password gives a session that may only enrol.
          await other.getByRole('heading', { level: 1, name: 'Zabezpečení účtu' }).waitFor()
          await other.getByText('Dokud dvoufázové ověření nezapnete', { exact: false }).waitFor()
          await other.getByRole('button', { name: 'Zapnout dvoufázové ověření' }).waitFor()
          await screenshot(other, 'mfa-reset-enrol')
          await assertAccessible(other, 'enrolment after a reset')
          assert.deepEqual(auditor.problems, [])
        } finally {
          await auditor.close()
        }
      })
    })

    // accounts: a citizen registers, verifies the address from the e-mail, signs in and
    // changes the password. The link is read from platform_mail, as a mail client would.
    describe('accounts', { skip: !process.env.EPOM_PLATFORM_DATABASE_URL && 'EPOM_PLATFORM_DATABASE_URL not set' }, () => {
      let browser
      before(async () => {
        browser = await openBrowser()
      })
      after(async () => {
        await browser?.close()
      })

      /** The token of the newest link to `path` mailed to `to`, waiting for the mail. */
      async function mailedToken(to, path) {
        for (let i = 0; i < 50; i++) {
          const out = execFileSync('psql', [process.env.EPOM_PLATFORM_DATABASE_URL, '-qAt', '-v', `to=${to}`], {
            input: "SELECT text_body FROM platform_mail WHERE to_address = :'to' ORDER BY created_at DESC LIMIT 1",
            encoding: 'utf8',
          })
          const match = out.match(new RegExp(`${path}\\?token=([A-Za-z0-9_-]+)`))
          if (match) return match[1]
          await new Promise((resolve) => setTimeout(resolve, 200))
        }
        throw new Error(`no ${path} link mailed to ${to}`)
      }

      test('a citizen registers, verifies the address, signs in and changes the password', async () => {
        const { page, problems } = browser
        const citizen = `obcan-${Date.now()}@example.cz`
        const first = 'zelené jablko na stole'
        const second = 'modrý kůň skáče přes plot'

        await page.goto(`${baseURL}/app/prihlaseni`)
        await page.getByRole('link', { name: 'Založit účet' }).click()
        await page.getByRole('heading', { level: 1, name: 'Registrace' }).waitFor()
        await assertAccessible(page, 'registration')
        await page.getByLabel(/^Jméno a příjmení/).fill('Eva Malá')
        await page.getByLabel(/^E-mail/).fill(citizen)
        await page.getByLabel(/^Heslo(?! znovu)/).fill(first)
        await page.getByLabel(/^Heslo znovu/).fill(first)
        await page.getByRole('button', { name: 'Založit účet' }).click()
        await page.getByText(/jsme poslali odkaz pro potvrzení/).waitFor()
        await screenshot(page, 'registration-done')

        // Not verified yet: the right password is refused with the reason.
        await page.goto(`${baseURL}/app/prihlaseni`)
        await page.getByLabel(/^E-mail/).fill(citizen)
        await page.getByLabel(/^Heslo/).fill(first)
        await page.getByRole('button', { name: 'Přihlásit se' }).click()
        await page.getByText('E-mailová adresa zatím není ověřena').waitFor()

        await page.goto(`${baseURL}/app/overeni?token=${await mailedToken(citizen, '/app/overeni')}`)
        await page.getByRole('heading', { level: 1, name: 'Ověření e-mailu' }).waitFor()
        await assertAccessible(page, 'verification')
        await page.getByRole('button', { name: 'Potvrdit e-mailovou adresu' }).click()
        await page.getByText('E-mailová adresa je ověřena. Nyní se můžete přihlásit.').waitFor()
        await page.getByRole('link', { name: 'Přihlásit se' }).first().click()

        await page.getByLabel(/^E-mail/).fill(citizen)
        await page.getByLabel(/^Heslo/).fill(first)
        await page.getByRole('button', { name: 'Přihlásit se' }).click()
        await page.getByRole('banner').getByRole('button', { name: 'Eva Malá' }).waitFor()

        await page.goto(`${baseURL}/app/ucet/heslo`)
        await page.getByRole('heading', { level: 1, name: 'Změna hesla' }).waitFor()
        await assertAccessible(page, 'password change')
        await page.getByLabel(/^Současné heslo/).fill(first)
        await page.getByLabel(/^Nové heslo/).fill(second)
        await page.getByLabel(/^Heslo znovu/).fill(second)
        await page.getByRole('button', { name: 'Změnit heslo' }).click()
        await page.getByText('Heslo bylo změněno. Ostatní přihlášení byla ukončena.').waitFor()
        await screenshot(page, 'password-changed')
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
