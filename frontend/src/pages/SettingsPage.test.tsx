import { screen, waitFor } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import type { TenantSettings } from '../api/client'
import { json, me, mockApi, problem, tenantRoutes } from '../test/api'
import { renderApp } from '../test/render'

const settings: TenantSettings = {
  displayName: 'Statutární město Liberec',
  contactEmail: 'posta@liberec.cz',
  website: 'https://www.liberec.cz',
  embedOrigins: ['https://www.liberec.cz'],
  updatedAt: '2026-11-20T08:15:00Z',
}

describe('settings page', () => {
  it('shows the API field error next to its field and moves focus there', async () => {
    mockApi({
      ...tenantRoutes(me(['tenant-admin'])),
      'GET /api/v1/tenants/liberec/settings': settings,
      'PUT /api/v1/tenants/liberec/settings': () =>
        problem({
          type: '/problems/validation',
          title: 'Neplatná data',
          status: 422,
          errors: [{ field: '/website', message: 'Adresa musí začínat http:// nebo https://.' }],
        }),
    })
    renderApp('/t/liberec/nastaveni')

    const website = await screen.findByLabelText('Webové stránky obce')
    await userEvent.clear(website)
    await userEvent.type(website, 'www.liberec.cz')
    await userEvent.click(screen.getByRole('button', { name: 'Uložit nastavení' }))

    expect(await screen.findByText('Nastavení nebylo uloženo. Opravte prosím označená pole.')).toBeInTheDocument()
    expect(website).toHaveAttribute('aria-invalid', 'true')
    expect(website).toHaveAccessibleDescription(expect.stringContaining('Adresa musí začínat http:// nebo https://.'))
    expect(website).toHaveFocus()
    expect(screen.getByLabelText(/Název obce pro zobrazení/)).not.toHaveAttribute('aria-invalid', 'true')
  })

  it('disables the submit button while saving, sends the CSRF token and confirms success', async () => {
    let answer!: (response: Response) => void
    const requests = mockApi({
      ...tenantRoutes(me(['tenant-admin'])),
      'GET /api/v1/tenants/liberec/settings': settings,
      'PUT /api/v1/tenants/liberec/settings': () => new Promise<Response>((resolve) => (answer = resolve)),
    })
    renderApp('/t/liberec/nastaveni')

    const phone = await screen.findByLabelText('Kontaktní telefon')
    await userEvent.type(phone, '+420 485 243 111')
    await userEvent.click(screen.getByRole('button', { name: 'Uložit nastavení' }))

    const saving = await screen.findByRole('button', { name: 'Ukládám…' })
    expect(saving).toBeDisabled()

    const put = requests.find((r) => r.method === 'PUT')!
    expect(put.headers.get('X-CSRF-Token')).toBe('csrf-123')
    expect(await put.clone().json()).toEqual({
      displayName: 'Statutární město Liberec',
      contactEmail: 'posta@liberec.cz',
      contactPhone: '+420 485 243 111',
      website: 'https://www.liberec.cz',
      embedOrigins: ['https://www.liberec.cz'],
    })

    answer(json({ ...settings, contactPhone: '+420 485 243 111', updatedAt: '2026-11-22T09:00:00Z' }))

    expect(await screen.findByText('Nastavení bylo uloženo.')).toBeInTheDocument()
    await waitFor(() => expect(screen.getByRole('button', { name: 'Uložit nastavení' })).toBeEnabled())
    expect(screen.getByText(/Naposledy změněno 22\. 11\. 2026 10:00/)).toBeInTheDocument()
  })

  it('tells an auditor the page is not for them', async () => {
    mockApi(tenantRoutes(me(['auditor'])))
    renderApp('/t/liberec/nastaveni')

    expect(await screen.findByRole('heading', { level: 1, name: 'Přístup odepřen' })).toBeInTheDocument()
  })
})
