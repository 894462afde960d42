import { screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import axe from 'axe-core'
import { describe, expect, it, vi } from 'vitest'
import type { OperatorMunicipality, OperatorTenant, SubscriptionRequest } from '../api/client'
import { json, me, mockApi, modules, problem } from '../test/api'
import { renderApp } from '../test/render'

const operator = me([], { memberships: [], platformRoles: ['operator:CZ051'], email: 'operator@kraj.demo' })

const turnov: OperatorMunicipality = { kodObce: '577626', name: 'Turnov', type: 'Město', okres: 'Semily', orp: 'Turnov', ico: '00276227' }
const liberecRow: OperatorMunicipality = {
  kodObce: '563889',
  name: 'Liberec',
  type: 'Statutární město',
  okres: 'Liberec',
  orp: 'Liberec',
  tenant: { id: '3b0c6d8e-7f1a-4c2b-9d3e-000000000001', slug: 'liberec', status: 'active' },
}
const turnovTenant: OperatorTenant = {
  id: '0b0c6d8e-7f1a-4c2b-9d3e-000000000009',
  slug: 'turnov',
  name: 'Turnov',
  kodObce: '577626',
  krajNuts: 'CZ051',
  status: 'active',
  modules: ['noticeboard'],
  staff: 3,
  createdAt: '2026-11-01T09:00:00Z',
  statusChangedAt: '2026-11-01T09:00:00Z',
  lastSignInAt: '2026-11-20T08:30:00Z',
}
const request: SubscriptionRequest = {
  id: '5d5d5d5d-0000-4000-8000-000000000001',
  kodObce: '563820',
  municipality: 'Tanvald',
  krajNuts: 'CZ051',
  ico: '00262587',
  contactName: 'Jana Nováková',
  email: 'jana@tanvald.test',
  modules: ['noticeboard'],
  status: 'pending',
  createdAt: '2026-11-21T10:00:00Z',
}

/** axe-core on the rendered page; colour contrast needs a real layout engine (the e2e run checks it). */
async function expectAccessible() {
  const result = await axe.run(document.body, { rules: { 'color-contrast': { enabled: false } } })
  expect(result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.html).join(' | ')}`)).toEqual([])
}

// Whole pages with typing and axe runs: slower than the 5 s default on a shared machine.
vi.setConfig({ testTimeout: 30_000 })

describe('operator console', () => {
  it('is offered in the navigation to the operators of a kraj only', async () => {
    mockApi({
      'GET /api/v1/me': operator,
      'GET /api/v1/operator/CZ051/municipalities': { items: [], total: 0 },
      'GET /api/v1/modules': { items: modules },
    })
    renderApp('/')
    const link = await screen.findByRole('link', { name: 'Operátor: Liberecký kraj' })
    expect(link).toHaveAttribute('href', '/kraj/CZ051')
  })

  it('is closed to the operators of another kraj', async () => {
    mockApi({ 'GET /api/v1/me': operator })
    renderApp('/kraj/CZ052')
    expect(await screen.findByRole('heading', { level: 1, name: 'Přístup odepřen' })).toBeInTheDocument()
  })

  it('searches the municipalities and connects one with its first admin', async () => {
    let connected = false
    const requests = mockApi({
      'GET /api/v1/me': operator,
      'GET /api/v1/modules': { items: modules },
      'GET /api/v1/operator/CZ051/municipalities': () =>
        json({ items: [connected ? { ...turnov, tenant: { id: turnovTenant.id, slug: 'turnov', status: 'active' } } : turnov, liberecRow], total: 2 }),
      'POST /api/v1/operator/CZ051/tenants': async (req) => {
        const body = await req.clone().json()
        if (!body.adminEmail.includes('@')) {
          return problem({ type: '/problems/validation', title: 'Požadavek není platný', status: 400, errors: [{ field: '/adminEmail', message: 'Neplatný e-mail.' }] })
        }
        connected = true
        return json({ ...turnovTenant, adminInvited: true }, 201)
      },
    })
    renderApp('/kraj/CZ051')

    expect(await screen.findByRole('heading', { level: 1, name: 'Obce – Liberecký kraj' })).toBeInTheDocument()
    const liberec = (await screen.findByRole('rowheader', { name: 'Liberec' })).closest('tr')!
    expect(within(liberec).getByText('aktivní')).toBeInTheDocument()
    await expectAccessible()

    await userEvent.type(screen.getByRole('searchbox', { name: /Hledat obec/ }), 'turn')
    await userEvent.click(screen.getByRole('button', { name: 'Hledat' }))
    const search = new URL(requests.filter((r) => r.url.includes('municipalities')).at(-1)!.url)
    expect(search.searchParams.get('q')).toBe('turn')

    await userEvent.click(screen.getByRole('button', { name: 'Připojit obec Turnov' }))
    const dialog = screen.getByRole('dialog', { name: 'Připojit obec Turnov' })
    expect(within(dialog).getByRole('heading', { name: 'Připojit obec Turnov' })).toHaveFocus()
    await userEvent.click(within(dialog).getByRole('checkbox', { name: 'Úřední deska' }))
    await userEvent.type(within(dialog).getByRole('textbox', { name: /Jméno prvního správce/ }), 'Starosta Turnova')
    await userEvent.type(within(dialog).getByRole('textbox', { name: /E-mail prvního správce/ }), 'starosta')
    await userEvent.click(within(dialog).getByRole('button', { name: 'Připojit a pozvat správce' }))
    expect(await within(dialog).findByText('Neplatný e-mail.')).toBeInTheDocument()
    await expectAccessible()

    await userEvent.type(within(dialog).getByRole('textbox', { name: /E-mail prvního správce/ }), '@turnov.test')
    await userEvent.click(within(dialog).getByRole('button', { name: 'Připojit a pozvat správce' }))
    expect(await screen.findByText('Obec Turnov je připojena; pozvánka odešla na starosta@turnov.test.')).toBeInTheDocument()
    const post = requests.filter((r) => r.method === 'POST').at(-1)!
    expect(await post.json()).toEqual({ kodObce: '577626', modules: ['noticeboard'], adminEmail: 'starosta@turnov.test', adminName: 'Starosta Turnova' })
    expect(post.headers.get('X-CSRF-Token')).toBe('csrf-123')
    expect(await screen.findByRole('link', { name: 'Detail Turnov' })).toBeInTheDocument()
  })

  it('shows a tenant without agenda data, toggles modules and suspends only with a reason', async () => {
    let current = turnovTenant
    const requests = mockApi({
      'GET /api/v1/me': operator,
      'GET /api/v1/modules': { items: modules },
      [`GET /api/v1/operator/CZ051/tenants/${turnovTenant.id}`]: () => json(current),
      [`PUT /api/v1/operator/CZ051/tenants/${turnovTenant.id}/modules`]: async (req) => {
        current = { ...current, modules: (await req.clone().json()).modules }
        return json(current)
      },
      [`PUT /api/v1/operator/CZ051/tenants/${turnovTenant.id}/status`]: async (req) => {
        current = { ...current, status: (await req.clone().json()).status }
        return json(current)
      },
    })
    renderApp(`/kraj/CZ051/obce/${turnovTenant.id}`)

    expect(await screen.findByRole('heading', { level: 1, name: 'Turnov' })).toBeInTheDocument()
    expect(screen.getByText('3')).toBeInTheDocument()
    await expectAccessible()

    await userEvent.click(screen.getByRole('checkbox', { name: 'Petice' }))
    await userEvent.click(screen.getByRole('button', { name: 'Uložit moduly' }))
    expect(await screen.findByText('Moduly jsou uloženy.')).toBeInTheDocument()
    const put = requests.find((r) => r.method === 'PUT')!
    expect(await put.json()).toEqual({ modules: ['noticeboard', 'petitions'] })

    await userEvent.click(screen.getByRole('button', { name: 'Pozastavit' }))
    expect(await screen.findByText('Uveďte důvod pozastavení.')).toBeInTheDocument()
    expect(requests.filter((r) => r.url.endsWith('/status'))).toHaveLength(0)
    await userEvent.type(screen.getByRole('textbox', { name: /Důvod pozastavení/ }), 'Nezaplaceno')
    await userEvent.click(screen.getByRole('button', { name: 'Pozastavit' }))
    expect(await screen.findByText('Obec Turnov má nyní stav „pozastavená“.')).toBeInTheDocument()
    expect(await requests.filter((r) => r.url.endsWith('/status'))[0].json()).toEqual({ status: 'suspended', reason: 'Nezaplaceno' })
    expect(screen.getByRole('button', { name: 'Obnovit provoz' })).toBeInTheDocument()
  })

  it('approves and rejects requests, a rejection only with a reason', async () => {
    const second = { ...request, id: '5d5d5d5d-0000-4000-8000-000000000002', municipality: 'Jablonec nad Nisou', email: 'j@jablonec.test' }
    const requests = mockApi({
      'GET /api/v1/me': operator,
      'GET /api/v1/operator/CZ051/subscription-requests': { items: [request, second] },
      [`POST /api/v1/operator/CZ051/subscription-requests/${request.id}/approve`]: { ...request, status: 'approved' },
      [`POST /api/v1/operator/CZ051/subscription-requests/${second.id}/reject`]: { ...second, status: 'rejected', reason: 'x' },
    })
    renderApp('/kraj/CZ051/zadosti')

    expect(await screen.findByRole('heading', { level: 2, name: 'Tanvald' })).toBeInTheDocument()
    expect(new URL(requests.find((r) => r.url.includes('subscription-requests'))!.url).searchParams.get('status')).toBe('pending')
    await expectAccessible()

    const tanvald = screen.getByRole('heading', { level: 2, name: 'Tanvald' }).closest('article')!
    await userEvent.type(within(tanvald).getByRole('textbox', { name: /Adresa obce v epom/ }), 'mesto-tanvald')
    await userEvent.click(screen.getByRole('button', { name: 'Schválit Tanvald' }))
    expect(await screen.findByText('Žádost obce Tanvald je schválena; pozvánka odešla na jana@tanvald.test.')).toBeInTheDocument()
    expect(await requests.find((r) => r.url.endsWith('/approve'))!.json()).toEqual({ slug: 'mesto-tanvald' })

    await userEvent.click(screen.getByRole('button', { name: 'Zamítnout Jablonec nad Nisou' }))
    await userEvent.click(screen.getByRole('button', { name: 'Zamítnout žádost Jablonec nad Nisou' }))
    expect(await screen.findByText('Uveďte důvod zamítnutí.')).toBeInTheDocument()
    await userEvent.type(screen.getByRole('textbox', { name: /Důvod zamítnutí/ }), 'Obec má jiného dodavatele.')
    await userEvent.click(screen.getByRole('button', { name: 'Zamítnout žádost Jablonec nad Nisou' }))
    expect(await screen.findByText('Žádost obce Jablonec nad Nisou je zamítnuta; žadatel dostane důvod e-mailem.')).toBeInTheDocument()
    const reject = requests.find((r) => r.url.endsWith('/reject'))!
    expect(await reject.json()).toEqual({ reason: 'Obec má jiného dodavatele.' })
  })
})

describe('order form', () => {
  it('looks the IČO up, needs consent, reports server field errors and thanks', async () => {
    let attempt = 0
    const requests = mockApi({
      'GET /api/v1/me': () => problem({ type: '/problems/unauthenticated', title: 'Je třeba se přihlásit', status: 401 }),
      'GET /api/v1/modules': { items: modules },
      'GET /api/v1/catalogue/municipalities': {
        items: [{ kodObce: '563820', name: 'Tanvald', type: 'Město', orp: 'Tanvald', okres: 'Jablonec nad Nisou', kraj: 'Liberecký kraj', krajNuts: 'CZ051', ico: '00262587', psc: [] }],
      },
      'POST /api/v1/subscription-requests': async (req) => {
        attempt++
        if (attempt === 1) {
          return problem({ type: '/problems/subscription-pending', title: 'Žádost obce už čeká na vyřízení', status: 409 })
        }
        expect((await req.clone().json()).consent).toBe(true)
        return json({ id: request.id, municipality: 'Tanvald' }, 201)
      },
    })
    renderApp('/objednat')

    expect(await screen.findByRole('heading', { level: 1, name: 'Objednat epom pro obec' })).toBeInTheDocument()
    await userEvent.type(screen.getByRole('textbox', { name: /IČO obce/ }), '00262587')
    expect(await screen.findByText('Obec: Tanvald, Liberecký kraj.')).toBeInTheDocument()
    await userEvent.type(screen.getByRole('textbox', { name: /Jméno kontaktní osoby/ }), 'Jana Nováková')
    await userEvent.type(screen.getByRole('textbox', { name: /^E-mail/ }), 'jana@tanvald.test')
    await userEvent.click(screen.getByRole('checkbox', { name: 'Úřední deska' }))
    await userEvent.click(screen.getByRole('button', { name: 'Odeslat žádost' }))
    expect(await screen.findByText('Bez souhlasu s podmínkami žádost nelze odeslat.')).toBeInTheDocument()
    expect(requests.filter((r) => r.method === 'POST')).toHaveLength(0)
    await expectAccessible()

    await userEvent.click(screen.getByRole('checkbox', { name: /Souhlasím s/ }))
    await userEvent.click(screen.getByRole('button', { name: 'Odeslat žádost' }))
    expect(await screen.findByText('Žádost obce už čeká na vyřízení')).toBeInTheDocument()
    await userEvent.click(screen.getByRole('button', { name: 'Odeslat žádost' }))
    expect(await screen.findByRole('heading', { level: 1, name: 'Děkujeme za objednávku' })).toBeInTheDocument()
    const sent = await requests.filter((r) => r.method === 'POST').at(-1)!.json()
    expect(sent).toEqual({ ico: '00262587', contactName: 'Jana Nováková', email: 'jana@tanvald.test', modules: ['noticeboard'], consent: true })
  })
})
