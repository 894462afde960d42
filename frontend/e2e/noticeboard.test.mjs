// Browser test of the notice board (úřední deska) against a running `epom dev`: the public
// board, archive, notice page and open data (also without JavaScript); a clerk who writes a
// notice with a PDF, is refused a disguised .exe and publishes it; and a notice scheduled for
// the next minute that the background jobs post (mailing a subscriber of its category) and take
// down at their minutes (real time: up to about two and a half minutes). Each page checked with
// axe-core. Environment as in landing.test.mjs (BASE_URL, E2E_REQUIRED).
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import { after, before, describe, test } from 'node:test'
import { assertAccessible, baseURL, isReachable, openBrowser, outDir, screenshot, signInStaff } from './browser.mjs'

const clerkEmail = process.env.E2E_CLERK_EMAIL || 'urednik@liberec.demo'
const password = process.env.E2E_PASSWORD || 'demo-heslo-2026'

const reachable = await isReachable(`${baseURL}/`)
const skip =
  !reachable && !process.env.E2E_REQUIRED
    ? `epom server at ${baseURL} is unreachable: start it or set BASE_URL (E2E_REQUIRED=1 makes this a failure)`
    : false

/** A time as the value of a datetime-local input in Prague (the browser's time zone here). */
function pragueInput(date) {
  const parts = new Intl.DateTimeFormat('sv-SE', {
    timeZone: 'Europe/Prague',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(date)
  return parts.replace(' ', 'T')
}

/** Reloads url until its text matches, for up to timeout ms. */
async function waitForText(page, url, text, timeout) {
  const end = Date.now() + timeout
  for (;;) {
    await page.goto(url)
    if ((await page.locator('main').innerText()).includes(text)) return
    if (Date.now() > end) assert.fail(`${url} did not show "${text}" within ${timeout / 1000} s`)
    await page.waitForTimeout(5000)
  }
}

async function signIn(page) {
  await signInStaff(page, clerkEmail, password)
  await page.getByRole('navigation', { name: 'Hlavní navigace' }).getByRole('link', { name: 'Úřední deska' }).click()
  await page.getByRole('heading', { level: 1, name: 'Úřední deska' }).waitFor()
}

// A citizen subscribes before the clerk posts; the notice reaches the mailbox.
const subscriber = `odber-${Date.now()}@example.cz`

/** Every tenant mail (mail_log of liberec) to `to`, newest first, as ref, subject and text. */
function mailLog(to) {
  return execFileSync('psql', [process.env.EPOM_DATABASE_URL, '-qAt', '-v', `to=${to}`], {
    input:
      "SELECT set_config('app.tenant_id', id::text, false) FROM tenants WHERE slug = 'liberec';\n" +
      "SELECT ref || ' ' || subject || ' ' || text_body FROM mail_log WHERE to_address = :'to' ORDER BY created_at DESC;\n",
    encoding: 'utf8',
  })
}

/** The newest tenant mail (mail_log of liberec) to `to` whose text matches re, read through the
 * app role the way the server reads it (row-level security bound to the tenant). */
async function mailed(to, re, timeout = 30_000) {
  const end = Date.now() + timeout
  for (;;) {
    const match = mailLog(to).match(re)
    if (match) return match
    if (Date.now() > end) assert.fail(`no mail to ${to} matching ${re}`)
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
}

/** Subscribes address to the board's category (its label) through the public form and
 * confirms with the link from the confirmation mail. */
async function subscribe(page, address, category) {
  await page.goto(`${baseURL}/o/liberec/uredni-deska/odber`)
  await page.getByLabel('E-mailová adresa').fill(address)
  await page.getByLabel(category, { exact: true }).check()
  await page.getByRole('button', { name: 'Přihlásit k odběru' }).click()
  await page.getByRole('heading', { level: 1, name: 'Zkontrolujte svou e-mailovou schránku' }).waitFor()
  const [, token] = await mailed(address, /\/odber\/potvrdit\?token=([A-Za-z0-9_-]+)/)
  await page.goto(`${baseURL}/o/liberec/uredni-deska/odber/potvrdit?token=${token}`)
  await page.getByRole('button', { name: 'Potvrdit odběr' }).click()
  await page.getByRole('heading', { level: 1, name: 'Odběr je potvrzen' }).waitFor()
}

const pdf = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n')
const exe = Buffer.concat([Buffer.from('MZ\x90\x00\x03\x00\x00\x00', 'latin1'), Buffer.alloc(256)])

if (skip) {
  test(`notice board at ${baseURL}`, { skip }, () => {})
} else {
  describe(`notice board at ${baseURL}`, { timeout: 480_000 }, () => {
    before(async () => {
      assert.ok(reachable, `epom server at ${baseURL} is unreachable and E2E_REQUIRED is set`)
      await mkdir(outDir, { recursive: true })
    })

    test('the public board, its archive and a notice are accessible', async () => {
      const { page, close } = await openBrowser()
      try {
        await page.goto(`${baseURL}/o/liberec/uredni-deska`)
        assert.equal(await page.locator('h1').innerText(), 'Úřední deska')
        assert.ok((await page.locator('.epom-board__list > li').count()) > 0, 'the demo board has notices')
        await screenshot(page, 'board')
        await assertAccessible(page, 'board')

        await page.getByLabel('Kategorie').selectOption('rozpocet')
        await page.getByRole('button', { name: 'Zobrazit' }).click()
        await page.waitForURL(/kategorie=rozpocet/)
        await assertAccessible(page, 'board filtered')

        await page.locator('.epom-board__list h2 a').first().click()
        await page.getByRole('heading', { level: 2, name: 'Dokumenty' }).waitFor()
        await screenshot(page, 'board-notice')
        await assertAccessible(page, 'board notice')

        await page.goto(`${baseURL}/o/liberec/uredni-deska/archiv`)
        assert.equal(await page.locator('h1').innerText(), 'Archiv úřední desky')
        await assertAccessible(page, 'archive')

        const res = await fetch(`${baseURL}/o/liberec/uredni-deska.jsonld`)
        assert.match(res.headers.get('content-type'), /application\/ld\+json/)
        const board = await res.json()
        assert.equal(board.typ, 'Úřední deska')
        assert.ok(board.informace.length > 0)
      } finally {
        await close()
      }
    })

    test('the public board works without JavaScript', async () => {
      const { page, close } = await openBrowser({ javaScriptEnabled: false })
      try {
        await page.goto(`${baseURL}/o/liberec/uredni-deska?q=rozpo%C4%8Dtu`)
        assert.equal(await page.locator('h1').innerText(), 'Úřední deska')
        assert.ok((await page.locator('.epom-board__list > li').count()) > 0, 'search finds the budget notices')
        await screenshot(page, 'board-no-js')
      } finally {
        await close()
      }
    })

    test('a citizen subscribes to the board and confirms by e-mail', async () => {
      // The pages have no script of their own; JavaScript stays on only for axe-core.
      const { page, close } = await openBrowser()
      try {
        await page.goto(`${baseURL}/o/liberec/uredni-deska`)
        await page.getByRole('link', { name: 'Odběr e-mailem' }).click()
        assert.equal(await page.locator('h1').innerText(), 'Odběr úřední desky')
        await page.getByLabel('E-mailová adresa').fill('není adresa')
        await page.getByRole('button', { name: 'Přihlásit k odběru' }).click()
        await page.getByText('Zadejte platnou e-mailovou adresu').waitFor()
        await assertAccessible(page, 'subscription form with an error')

        await page.getByLabel('E-mailová adresa').fill(subscriber)
        await page.getByLabel('Ostatní').check()
        await page.getByRole('button', { name: 'Přihlásit k odběru' }).click()
        await page.getByRole('heading', { level: 1, name: 'Zkontrolujte svou e-mailovou schránku' }).waitFor()
        await screenshot(page, 'board-subscribed')

        const [, token] = await mailed(subscriber, /\/odber\/potvrdit\?token=([A-Za-z0-9_-]+)/)
        await page.goto(`${baseURL}/o/liberec/uredni-deska/odber/potvrdit?token=${token}`)
        await assertAccessible(page, 'subscription confirmation')
        await page.getByRole('button', { name: 'Potvrdit odběr' }).click()
        await page.getByRole('heading', { level: 1, name: 'Odběr je potvrzen' }).waitFor()
      } finally {
        await close()
      }
    })

    test('a clerk writes a notice with a PDF and publishes it', async () => {
      const { page, close } = await openBrowser()
      const title = `Oznámení e2e ${Date.now()}`
      try {
        await signIn(page)
        await page.getByRole('table').waitFor()
        await screenshot(page, 'nb-list')
        await assertAccessible(page, 'clerk list')

        await page.getByRole('link', { name: 'Nové oznámení' }).click()
        await page.getByRole('heading', { level: 1, name: 'Nové oznámení' }).waitFor()
        await page.getByRole('button', { name: 'Uložit' }).click()
        await page.getByText('Vyplňte název oznámení.').waitFor()
        await assertAccessible(page, 'clerk form with errors')

        await page.getByLabel(/^Název oznámení/).fill(title)
        await page.getByLabel(/^Text oznámení/).fill('Oznamujeme <b>uzavírku</b> silnice.')
        await page.getByLabel(/^Kategorie/).selectOption('ostatni')
        await page.getByLabel(/^Číslo jednací/).fill('OÚ/999/2026')
        await page.getByRole('button', { name: 'Uložit' }).click()
        await page.getByRole('heading', { level: 1, name: title }).waitFor()

        await page.getByLabel('Přiložit dokument').setInputFiles({ name: 'faktura.pdf', mimeType: 'application/pdf', buffer: exe })
        await page.getByRole('button', { name: 'Nahrát' }).click()
        await page.getByText(/Tento typ souboru nelze přiložit/).waitFor()

        await page.getByLabel('Přiložit dokument').setInputFiles({ name: 'uzavirka.pdf', mimeType: 'application/pdf', buffer: pdf })
        await page.getByRole('button', { name: 'Nahrát' }).click()
        await page.getByRole('link', { name: 'Stáhnout uzavirka.pdf' }).waitFor()
        await screenshot(page, 'nb-detail')
        await assertAccessible(page, 'clerk detail')

        await page.getByRole('button', { name: 'Zveřejnit' }).click()
        await page.getByText('Hotovo.').waitFor()
        await page.getByText('Vyvěšeno').first().waitFor()
        await page.getByRole('button', { name: 'Zobrazit verzi 1' }).waitFor()
        // The delivery day, and the warning before a take-down earlier than the law allows
        await page.getByText('Den doručení (15. den po vyvěšení)').waitFor()
        await page.getByText(/ještě nevisí zákonných 15 dní/).waitFor()
        await assertAccessible(page, 'clerk detail posted')

        // The certificate of posting: the real posting time, "still hangs", printable on A4
        // without the app around it.
        await page.getByRole('link', { name: 'Doložka o vyvěšení' }).click()
        await page.getByRole('heading', { level: 1, name: 'Doložka o vyvěšení a sejmutí písemnosti' }).waitFor()
        await page.getByRole('row', { name: /Sejmuto dne dosud visí/ }).waitFor()
        await page.getByText(/Písemnost se považuje za doručenou dnem/).waitFor()
        await page.getByRole('rowheader', { name: 'uzavirka.pdf' }).waitFor()
        await assertAccessible(page, 'certificate of posting')
        await page.emulateMedia({ media: 'print' })
        assert.ok(!(await page.locator('header.epom-header').isVisible()), 'no app header on paper')
        assert.ok(!(await page.getByRole('button', { name: 'Vytisknout' }).isVisible()), 'no buttons on paper')
        await screenshot(page, 'nb-certificate-print')
        await page.emulateMedia({ media: 'screen' })
        await page.getByRole('button', { name: 'Vytisknout' }).waitFor()

        await page.goto(`${baseURL}/o/liberec/uredni-deska`)
        await page.getByRole('link', { name: title }).click()
        await page.getByText('Oznamujeme uzavírku silnice.').waitFor()
        await page.getByRole('link', { name: 'uzavirka.pdf' }).waitFor()

        // The subscriber of "Ostatní" got one e-mail naming the notice, with its link
        // and a one-click unsubscribe that works.
        const id = page.url().split('/').pop().split('?')[0]
        const [mail] = await mailed(subscriber, new RegExp(`noticeboard\\.notice:${id} ${title}[^]*`))
        assert.ok(mail.includes(`/o/liberec/uredni-deska/${id}`), 'the mail links to the notice')
        const unsubscribe = mail.match(/https?:\/\/\S+\/odber\/zrusit\?token=[A-Za-z0-9_.-]+/)
        assert.ok(unsubscribe, 'the mail has the unsubscribe link')
        await page.goto(unsubscribe[0])
        await page.getByRole('button', { name: 'Zrušit odběr' }).click()
        await page.getByRole('heading', { level: 1, name: 'Odběr je zrušen' }).waitFor()
        await assertAccessible(page, 'unsubscribed')
      } finally {
        await close()
      }
    })

    test('the proof of posting lists the days and downloads a day as JSON', async () => {
      const { page, close } = await openBrowser()
      try {
        await signIn(page)
        await page.getByRole('link', { name: 'Důkaz vyvěšení' }).click()
        await page.getByRole('heading', { level: 1, name: 'Důkaz vyvěšení' }).waitFor()
        const table = page.getByRole('table', { name: 'Denní záznamy úřední desky' })
        await table.waitFor()
        await page.getByText(/Řetězec denních záznamů je neporušený/).waitFor()
        await screenshot(page, 'nb-proof')
        await assertAccessible(page, 'proof of posting')
        const [download] = await Promise.all([
          page.waitForEvent('download'),
          table.getByRole('button', { name: /Stáhnout JSON/ }).first().click(),
        ])
        assert.match(download.suggestedFilename(), /^uredni-deska-liberec-\d{4}-\d{2}-\d{2}\.json$/)
        const chunks = []
        for await (const chunk of await download.createReadStream()) chunks.push(chunk)
        const day = JSON.parse(Buffer.concat(chunks).toString('utf8'))
        assert.equal(day.format, 'epom.noticeboard.snapshot/1')
        assert.ok(day.notices.length > 0 && day.notices.every((n) => n.revision >= 1), 'the demo board hung')
      } finally {
        await close()
      }
    })

    test('a notice scheduled for the next minute is posted, mailed to a subscriber and taken down by the jobs', async () => {
      const { page, close } = await openBrowser()
      const title = `Naplánované oznámení ${Date.now()}`
      // A citizen subscribed to "Volby" gets the e-mail when the jobs post it, not before.
      const voter = `volby-${Date.now()}@example.cz`
      try {
        await subscribe(page, voter, 'Volby')
        await signIn(page) // before the times are chosen (signing in may wait for a code)
        // The next whole minute at least 20 s ahead, and the take-down a minute later.
        const postAt = new Date(Math.ceil((Date.now() + 20_000) / 60_000) * 60_000)
        const downAt = new Date(postAt.getTime() + 60_000)
        await page.getByRole('link', { name: 'Nové oznámení' }).click()
        await page.getByLabel(/^Název oznámení/).fill(title)
        await page.getByLabel(/^Kategorie/).selectOption('volby')
        await page.getByLabel(/^Vyvěsit/).fill(pragueInput(postAt))
        await page.getByLabel(/^Sejmout/).fill(pragueInput(downAt))
        await page.getByRole('button', { name: 'Uložit' }).click()
        await page.getByRole('heading', { level: 1, name: title }).waitFor()
        await page.getByLabel('Přiložit dokument').setInputFiles({ name: 'volby.pdf', mimeType: 'application/pdf', buffer: pdf })
        await page.getByRole('button', { name: 'Nahrát' }).click()
        await page.getByRole('link', { name: 'Stáhnout volby.pdf' }).waitFor()
        await page.getByRole('button', { name: 'Zveřejnit' }).click()
        await page.getByText('Naplánováno').first().waitFor()
        assert.ok(!mailLog(voter).includes(title), 'no e-mail before the notice hangs')

        await waitForText(page, `${baseURL}/o/liberec/uredni-deska`, title, 100_000)
        assert.ok(Date.now() >= postAt.getTime(), 'not posted before its minute')
        const board = await (await fetch(`${baseURL}/o/liberec/uredni-deska.jsonld`)).json()
        const info = board.informace.find((i) => i.název.cs === title)
        assert.ok(info, 'the posted notice is in the open data')
        assert.ok(info.dokument?.[0]?.url.includes('/prilohy/'), 'with its PDF')
        const href = await page.getByRole('link', { name: title }).getAttribute('href')
        const id = href.split('/').pop().split('?')[0]
        const [mail] = await mailed(voter, new RegExp(`noticeboard\\.notice:${id} ${title}[^]*`), 60_000)
        assert.ok(mail.includes(`/o/liberec/uredni-deska/${id}`), 'the mail links to the notice')
        assert.match(mail, /\/odber\/zrusit\?token=/, 'with the unsubscribe link')

        await waitForText(page, `${baseURL}/o/liberec/uredni-deska/archiv`, title, 100_000)
        assert.ok(Date.now() >= downAt.getTime(), 'not taken down before its minute')
        await page.goto(`${baseURL}/o/liberec/uredni-deska`)
        assert.ok(!(await page.locator('main').innerText()).includes(title), 'gone from the current board')
      } finally {
        await close()
      }
    })
  })
}
