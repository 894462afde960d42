import { screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import type { Tenant } from '../api/client'
import { json, me, mockApi } from '../test/api'
import { renderApp } from '../test/render'

const kunzak: Tenant = {
  id: '7f6e5d4c-0000-4000-8000-000000000002',
  slug: 'kunzak',
  status: 'active',
  kodObce: '546984',
  name: 'Kunžak',
  krajNuts: 'CZ031',
  hosts: [],
  createdAt: '2026-03-01T09:00:00Z',
}

describe('platform administration', () => {
  it('filters tenants by status, pages through them and suspends one', async () => {
    let status = kunzak.status
    const requests = mockApi({
      'GET /api/v1/me': me([], { memberships: [], platformRoles: ['platform-admin'] }),
      'GET /api/v1/platform/tenants': () => json({ items: [{ ...kunzak, status }], total: 41 }),
      [`PATCH /api/v1/platform/tenants/${kunzak.id}`]: async (request) => {
        status = (await request.json()).status
        return json({ ...kunzak, status })
      },
    })
    renderApp('/platforma')

    const row = (await screen.findByRole('rowheader', { name: 'Kunžak' })).closest('tr')!
    expect(within(row).getByText('aktivní')).toBeInTheDocument()
    expect(screen.getByText('Obce 1–1 z 41')).toBeInTheDocument()

    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Stav obce' }), 'active')
    await userEvent.click(screen.getByRole('button', { name: 'Další stránka' }))
    const lastList = new URL(requests.filter((r) => r.method === 'GET').at(-1)!.url)
    expect(Object.fromEntries(lastList.searchParams)).toEqual({ status: 'active', limit: '20', offset: '20' })

    await userEvent.click(await screen.findByRole('button', { name: 'Pozastavit Kunžak' }))

    expect(await screen.findByText('Obec Kunžak má nyní stav „pozastavená“.')).toBeInTheDocument()
    const patch = requests.find((r) => r.method === 'PATCH')!
    expect(patch.headers.get('X-CSRF-Token')).toBe('csrf-123')
    expect(await within(row).findByText('pozastavená')).toBeInTheDocument()
  })

  it('is closed to users without the platform-admin role', async () => {
    mockApi({ 'GET /api/v1/me': me(['tenant-admin']) })
    renderApp('/platforma')

    expect(await screen.findByRole('heading', { level: 1, name: 'Přístup odepřen' })).toBeInTheDocument()
  })
})
