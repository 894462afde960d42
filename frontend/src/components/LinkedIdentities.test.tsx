import { render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import type { LinkedIdentity } from '../api/client'
import { me, mockApi, problem } from '../test/api'
import { withProviders } from '../test/render'
import { LinkedIdentities } from './LinkedIdentities'

const nia: LinkedIdentity = {
  provider: 'nia',
  providerName: 'Identita občana',
  email: 'jana@example.cz',
  createdAt: '2026-11-20T08:15:00Z',
  lastUsedAt: '2026-11-22T09:00:00Z',
}

describe('linked identities', () => {
  it('lists the identities with Prague times and unlinks one with the CSRF token', async () => {
    let items = [nia]
    const requests = mockApi({
      'GET /api/v1/me': me([]),
      'GET /api/v1/me/identities': () => new Response(JSON.stringify({ items }), { headers: { 'Content-Type': 'application/json' } }),
      'DELETE /api/v1/me/identities/nia': () => {
        items = []
        return new Response(null, { status: 204 })
      },
    })
    render(withProviders(<LinkedIdentities />))

    const row = (await screen.findByRole('rowheader', { name: 'Identita občana' })).closest('tr')!
    expect(within(row).getByText('jana@example.cz')).toBeInTheDocument()
    expect(within(row).getByText(/20\. 11\. 2026 9:15/)).toBeInTheDocument()

    await userEvent.click(within(row).getByRole('button', { name: 'Odpojit identitu Identita občana' }))

    expect(await screen.findByText('Identita Identita občana byla odpojena.')).toBeInTheDocument()
    expect(await screen.findByText('Účet není propojen s žádnou externí identitou.')).toBeInTheDocument()
    const del = requests.find((r) => r.method === 'DELETE')!
    expect(del.headers.get('X-CSRF-Token')).toBe('csrf-123')
  })

  it('explains why the only way to sign in cannot be unlinked', async () => {
    mockApi({
      'GET /api/v1/me': me([]),
      'GET /api/v1/me/identities': { items: [nia] },
      'DELETE /api/v1/me/identities/nia': () =>
        problem({ type: '/problems/last-sign-in-method', title: 'Jde o jediný způsob přihlášení k účtu', status: 409 }),
    })
    render(withProviders(<LinkedIdentities />))

    await userEvent.click(await screen.findByRole('button', { name: 'Odpojit identitu Identita občana' }))

    expect(await screen.findByText(/je to jediný způsob, jak se k účtu přihlásit/)).toBeInTheDocument()
    expect(screen.getByRole('rowheader', { name: 'Identita občana' })).toBeInTheDocument()
  })
})
