import { screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import { json, liberec, me, mockApi, problem, tenantRoutes } from './test/api'
import { renderApp } from './test/render'

const signedOut = () => problem({ type: '/problems/unauthenticated', title: 'Nepřihlášen', status: 401 })

describe('app', () => {
  it('sends a signed-out visitor to sign in and back to the page they wanted', async () => {
    const user = me(['tenant-admin'])
    const requests = mockApi({
      ...tenantRoutes(user),
      'GET /api/v1/me': signedOut,
      'POST /api/v1/session': () => json(user),
      'GET /api/v1/tenants/liberec/members': { items: [] },
    })
    renderApp('/t/liberec/pracovnici')

    expect(await screen.findByRole('heading', { level: 1, name: 'Přihlášení' })).toBeInTheDocument()
    await userEvent.type(screen.getByLabelText(/E-mail/), 'starosta@liberec.demo')
    await userEvent.type(screen.getByLabelText(/Heslo/), 'demo-heslo-2026')
    await userEvent.click(screen.getByRole('button', { name: 'Přihlásit se' }))

    expect(await screen.findByRole('heading', { level: 1, name: 'Pracovníci' })).toBeInTheDocument()
    expect(await screen.findByText('Statutární město Liberec')).toBeInTheDocument()
    const signIn = requests.find((r) => r.method === 'POST')!
    expect(await signIn.clone().json()).toEqual({ email: 'starosta@liberec.demo', password: 'demo-heslo-2026' })
  })

  it('says so when the credentials are wrong', async () => {
    mockApi({
      'GET /api/v1/me': signedOut,
      'POST /api/v1/session': () => problem({ type: '/problems/unauthenticated', title: 'Unauthorized', status: 401 }),
    })
    renderApp('/prihlaseni')

    await userEvent.type(await screen.findByLabelText(/E-mail/), 'nekdo@example.cz')
    await userEvent.type(screen.getByLabelText(/Heslo/), 'spatne')
    await userEvent.click(screen.getByRole('button', { name: 'Přihlásit se' }))

    expect(await screen.findByText('Nesprávný e-mail nebo heslo.')).toBeInTheDocument()
  })

  it('opens the first municipality of a staff member, named in the header', async () => {
    mockApi(tenantRoutes(me(['tenant-admin'])))
    renderApp('/')

    expect(await screen.findByRole('heading', { level: 1, name: 'Přehled' })).toBeInTheDocument()
    expect(within(screen.getByRole('banner')).getByText('Statutární město Liberec')).toBeInTheDocument()
    const main = within(screen.getByRole('main'))
    expect(main.getByRole('link', { name: 'Úřední deska' })).toHaveAttribute('href', '/t/liberec/m/noticeboard')
    expect(main.getByRole('link', { name: 'Veřejná stránka obce' })).toHaveAttribute('href', liberec.links.landing)
  })

  it('gives a citizen without memberships a municipality search linking to public pages', async () => {
    mockApi({
      'GET /api/v1/me': me([], { memberships: [] }),
      'GET /api/v1/catalogue/municipalities': (request) => {
        expect(new URL(request.url).searchParams.get('q')).toBe('lib')
        return json({
          items: [
            {
              kodObce: '563889',
              name: 'Liberec',
              type: 'Statutární město',
              orp: 'Liberec',
              okres: 'Liberec',
              kraj: 'Liberecký kraj',
              krajNuts: 'CZ051',
              psc: ['46001'],
              tenantSlug: 'liberec',
            },
            {
              kodObce: '530000',
              name: 'Libeř',
              type: 'Obec',
              orp: 'Černošice',
              okres: 'Praha-západ',
              kraj: 'Středočeský kraj',
              krajNuts: 'CZ020',
              psc: ['25244'],
            },
          ],
        })
      },
    })
    renderApp('/')

    expect(await screen.findByRole('heading', { level: 1, name: 'Moje' })).toBeInTheDocument()
    await userEvent.type(screen.getByRole('searchbox', { name: 'Název obce, kód obce nebo IČO' }), 'lib')
    await userEvent.click(screen.getByRole('button', { name: 'Hledat' }))

    expect(await screen.findByRole('link', { name: 'Liberec' })).toHaveAttribute('href', '/o/liberec')
    expect(screen.getByText(/Libeř/)).toBeInTheDocument()
    expect(screen.queryByRole('link', { name: /Libeř/ })).not.toBeInTheDocument()
  })

  it('answers an unknown address with the Czech 404 page', async () => {
    mockApi({ 'GET /api/v1/me': signedOut })
    renderApp('/tohle-neexistuje')

    expect(await screen.findByRole('heading', { level: 1, name: 'Stránka nenalezena' })).toBeInTheDocument()
    expect(document.title).toBe('Stránka nenalezena – epom')
  })

  it('answers an unknown municipality with the 404 page', async () => {
    mockApi({
      'GET /api/v1/me': me(['tenant-admin']),
      'GET /api/v1/tenants/nikde': () => problem({ type: '/problems/not-found', title: 'Nenalezeno', status: 404 }),
    })
    renderApp('/t/nikde')

    expect(await screen.findByRole('heading', { level: 1, name: 'Stránka nenalezena' })).toBeInTheDocument()
  })
})
