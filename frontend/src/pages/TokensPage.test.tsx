import { screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import type { components } from '../api/schema'
import { json, me, mockApi, problem, tenantRoutes } from '../test/api'
import { renderApp } from '../test/render'
import { expiresAt, groupScopes } from './TokensPage'

type ApiToken = components['schemas']['ApiToken']

const active: ApiToken = {
  id: '01930000-0000-7000-8000-000000000001',
  name: 'Spisová služba',
  scopes: ['tenant.settings:read'],
  status: 'active',
  createdBy: '9c7d6e5f-0000-4000-8000-000000000001',
  createdByEmail: 'starosta@liberec.demo',
  createdAt: '2026-11-20T08:15:00Z',
  lastUsedAt: '2026-11-21T10:00:00Z',
  lastUsedIp: '10.0.0.7',
}

const listing = {
  items: [active],
  grantableScopes: ['tenant.audit:read', 'tenant.settings:read', 'tenant.settings:write'],
}

const secret = 'epom_aaaaaaaaaaaaaaaaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'

describe('API tokens page', () => {
  it('creates a token from the checked scopes and shows the secret once, with a copy button', async () => {
    const writeText = vi.fn().mockResolvedValue(undefined)
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true })
    const requests = mockApi({
      ...tenantRoutes(me(['tenant-admin'])),
      'GET /api/v1/tenants/liberec/tokens': listing,
      'POST /api/v1/tenants/liberec/tokens': async (request: Request) => {
        const body = await request.clone().json()
        return json({ token: { ...active, id: '01930000-0000-7000-8000-000000000002', name: body.name, scopes: body.scopes }, secret }, 201)
      },
    })
    renderApp('/t/liberec/tokeny')

    expect(await screen.findByRole('heading', { level: 1, name: 'API tokeny' })).toBeInTheDocument()
    expect(await screen.findByRole('row', { name: /Spisová služba/ })).toHaveTextContent('10.0.0.7')
    const settings = screen.getByRole('group', { name: 'Nastavení obce' })
    await userEvent.type(screen.getByLabelText(/Název tokenu/), 'Web obce')
    await userEvent.click(within(settings).getByRole('checkbox', { name: /číst tenant.settings:read/ }))
    await userEvent.click(screen.getByRole('radio', { name: 'Do odvolání' }))
    await userEvent.click(screen.getByRole('button', { name: 'Vytvořit token' }))

    const field = await screen.findByLabelText('Token')
    expect(field).toHaveValue(secret)
    expect(field).toHaveFocus()
    expect(screen.getByText(/Ukážeme ho jen teď/)).toBeInTheDocument()

    const post = requests.find((r) => r.method === 'POST')!
    expect(post.headers.get('X-CSRF-Token')).toBe('csrf-123')
    expect(await post.clone().json()).toEqual({ name: 'Web obce', scopes: ['tenant.settings:read'] })

    await userEvent.click(screen.getByRole('button', { name: 'Zkopírovat token' }))
    expect(writeText).toHaveBeenCalledWith(secret)
    expect(await screen.findByText('Token je ve schránce.')).toBeInTheDocument()

    await userEvent.click(screen.getByRole('button', { name: 'Token mám uložený' }))
    expect(screen.queryByLabelText('Token')).not.toBeInTheDocument()
    expect(screen.queryByDisplayValue(secret)).not.toBeInTheDocument()
    // Many steps of typing and clicking: on a loaded machine they take longer than the default 5 s.
  }, 20_000)

  it('refuses a token without a scope before sending, and shows the API field errors', async () => {
    const requests = mockApi({
      ...tenantRoutes(me(['tenant-admin'])),
      'GET /api/v1/tenants/liberec/tokens': { items: [], grantableScopes: listing.grantableScopes },
      'POST /api/v1/tenants/liberec/tokens': () =>
        problem({
          type: '/problems/validation',
          title: 'Požadavek není platný',
          status: 400,
          errors: [{ field: '/scopes/0', message: 'not a permission you may give to a token: tenant.audit:read' }],
        }),
    })
    renderApp('/t/liberec/tokeny')

    expect(await screen.findByText('Obec zatím nemá žádný API token.')).toBeInTheDocument()
    await userEvent.type(screen.getByLabelText(/Název tokenu/), 'Účetnictví')
    await userEvent.click(screen.getByRole('button', { name: 'Vytvořit token' }))
    expect(await screen.findByText('Vyberte alespoň jedno oprávnění.')).toBeInTheDocument()
    expect(requests.some((r) => r.method === 'POST')).toBe(false)

    await userEvent.click(screen.getByRole('checkbox', { name: /tenant.audit:read/ }))
    await userEvent.click(screen.getByRole('button', { name: 'Vytvořit token' }))
    expect(await screen.findByText(/not a permission you may give to a token/)).toBeInTheDocument()
    expect(screen.getByText('Token nebyl vytvořen. Opravte prosím označená pole.')).toBeInTheDocument()
    const post = requests.find((r) => r.method === 'POST')!
    const body = await post.clone().json()
    expect(body.scopes).toEqual(['tenant.audit:read'])
    expect(new Date(body.expiresAt).getTime()).toBeGreaterThan(Date.now() + 89 * 24 * 3600 * 1000)
  }, 20_000)

  it('revokes only after confirmation', async () => {
    const requests = mockApi({
      ...tenantRoutes(me(['tenant-admin'])),
      'GET /api/v1/tenants/liberec/tokens': listing,
      [`POST /api/v1/tenants/liberec/tokens/${active.id}/revoke`]: { ...active, status: 'revoked' },
    })
    renderApp('/t/liberec/tokeny')

    await userEvent.click(await screen.findByRole('button', { name: 'Odvolat token Spisová služba' }))
    expect(screen.getByText(/Opravdu odvolat token „Spisová služba“/)).toBeInTheDocument()
    await userEvent.click(screen.getByRole('button', { name: 'Ponechat' }))
    expect(requests.some((r) => r.url.endsWith('/revoke'))).toBe(false)

    await userEvent.click(screen.getByRole('button', { name: 'Odvolat token Spisová služba' }))
    const yes = screen.getByRole('button', { name: 'Ano, odvolat' })
    await waitFor(() => expect(yes).toHaveFocus())
    await userEvent.click(yes)
    expect(await screen.findByText('Token „Spisová služba“ byl odvolán.')).toBeInTheDocument()
    expect(requests.filter((r) => r.url.endsWith('/revoke'))).toHaveLength(1)
  })

  it('is offered to tenant admins only', async () => {
    mockApi(tenantRoutes(me(['clerk'])))
    renderApp('/t/liberec/tokeny')
    expect(await screen.findByRole('heading', { level: 1, name: 'Přístup odepřen' })).toBeInTheDocument()
    expect(screen.queryByRole('link', { name: 'API tokeny' })).not.toBeInTheDocument()
  })

  it('shows the nav entry to a tenant admin', async () => {
    mockApi({ ...tenantRoutes(me(['tenant-admin'])), 'GET /api/v1/tenants/liberec/tokens': listing })
    renderApp('/t/liberec')
    expect(await screen.findByRole('link', { name: 'API tokeny' })).toHaveAttribute('href', '/t/liberec/tokeny')
  })
})

describe('token helpers', () => {
  it('groups scopes by object', () => {
    expect(groupScopes(['tenant.audit:read', 'tenant.settings:read', 'tenant.settings:write'])).toEqual([
      ['tenant.audit', ['tenant.audit:read']],
      ['tenant.settings', ['tenant.settings:read', 'tenant.settings:write']],
    ])
  })

  it('computes the expiry', () => {
    const now = new Date('2026-11-22T10:00:00Z')
    expect(expiresAt('none', now)).toBeUndefined()
    expect(expiresAt('30', now)).toBe('2026-12-22T10:00:00.000Z')
    expect(expiresAt('365', now)).toBe('2027-11-22T10:00:00.000Z')
  })
})
