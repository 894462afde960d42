import { screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import type { Member } from '../api/client'
import type { components } from '../api/schema'
import { json, me, mockApi, problem, tenantRoutes } from '../test/api'
import { expectAccessible } from '../test/axe'
import { renderApp } from '../test/render'

const admin: Member = { userId: 'u-1', email: 'starosta@liberec.demo', name: 'Jana Nováková', roles: ['tenant-admin'] }
const clerk: Member = { userId: 'u-2', email: 'urednik@liberec.demo', name: 'Petr Dvořák', roles: ['clerk'] }
const invitation: components['schemas']['Invitation'] = {
  id: 'i-1',
  email: 'nova@liberec.demo',
  name: 'Eva Nová',
  roles: ['clerk', 'auditor'],
  status: 'pending',
  createdAt: '2026-11-20T08:00:00Z',
  expiresAt: '2026-11-27T08:00:00Z',
}

function routes(roles: string[], overrides: Record<string, object> = {}) {
  return {
    ...tenantRoutes(me(roles)),
    'GET /api/v1/tenants/liberec/members': { items: [admin, clerk] },
    'GET /api/v1/tenants/liberec/invitations': { items: [invitation] },
    ...overrides,
  }
}

describe('members page', () => {
  it('lists members and invitations with Czech role names', async () => {
    mockApi(routes(['tenant-admin']))
    renderApp('/t/liberec/pracovnici')

    const row = (await screen.findByRole('rowheader', { name: 'Petr Dvořák' })).closest('tr')!
    expect(within(row).getByText('Úředník')).toBeInTheDocument()
    const inv = (await screen.findByRole('rowheader', { name: 'nova@liberec.demo' })).closest('tr')!
    expect(within(inv).getByText('Úředník, Auditor')).toBeInTheDocument()
    expect(within(inv).getByText('27. 11. 2026 9:00')).toBeInTheDocument()
    await expectAccessible()
  })

  it('edits roles in a dialog and reports the last-admin refusal there', async () => {
    let body: unknown
    const requests = mockApi(
      routes(['tenant-admin'], {
        'PUT /api/v1/tenants/liberec/members/u-2/roles': async (request: Request) => {
          body = await request.json()
          return json({ ...clerk, roles: ['clerk', 'auditor'] })
        },
        'PUT /api/v1/tenants/liberec/members/u-1/roles': () =>
          problem({
            type: '/problems/last-admin',
            title: 'Obec musí mít alespoň jednoho správce',
            status: 409,
            requestId: 'r-1',
          }),
      }),
    )
    renderApp('/t/liberec/pracovnici')

    await userEvent.click(await screen.findByRole('button', { name: 'Upravit role: Petr Dvořák' }))
    const dialog = screen.getByRole('dialog')
    const auditor = within(dialog).getByRole('checkbox', { name: 'Auditor' })
    expect(within(dialog).getByRole('checkbox', { name: 'Úředník' })).toBeChecked()
    expect(auditor).not.toBeChecked()
    await expectAccessible()
    await userEvent.click(auditor)
    await userEvent.click(within(dialog).getByRole('button', { name: 'Uložit role' }))

    expect(await screen.findByText('Role pracovníka Petr Dvořák byly uloženy.')).toBeInTheDocument()
    expect(body).toEqual({ roles: ['clerk', 'auditor'] })
    expect(requests.find((r) => r.method === 'PUT')!.headers.get('X-CSRF-Token')).toBe('csrf-123')
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument()

    await userEvent.click(screen.getByRole('button', { name: 'Odebrat pracovníka Jana Nováková' }))
    const remove = screen.getByRole('dialog')
    await userEvent.click(within(remove).getByRole('button', { name: 'Odebrat' }))
    expect(await within(remove).findByText('Obec musí mít alespoň jednoho správce')).toBeInTheDocument()
  })

  it('invites a staff member and moves focus to a field the API rejected', async () => {
    const bodies: unknown[] = []
    mockApi(
      routes(['tenant-admin'], {
        'POST /api/v1/tenants/liberec/invitations': async (request: Request) => {
          const body = await request.json()
          bodies.push(body)
          if (body.email === 'spatne') {
            return problem({
              type: '/problems/validation',
              title: 'Požadavek není platný',
              status: 400,
              errors: [{ field: '/email', message: 'Neplatná e-mailová adresa.' }],
            })
          }
          return json({ ...invitation, email: body.email }, 201)
        },
      }),
    )
    renderApp('/t/liberec/pracovnici')

    const email = await screen.findByLabelText(/^E-mail/)
    await userEvent.type(email, 'spatne')
    await userEvent.click(screen.getByRole('button', { name: 'Pozvat pracovníka' }))
    await waitFor(() => expect(email).toHaveFocus())
    expect(email).toHaveAttribute('aria-invalid', 'true')
    expect(email).toHaveAccessibleDescription('Neplatná e-mailová adresa.')

    await userEvent.clear(email)
    await userEvent.type(email, 'novy@liberec.demo')
    await userEvent.type(screen.getByLabelText('Jméno'), 'Karel Nový')
    const form = screen.getByRole('group', { name: 'Role' })
    await userEvent.click(within(form).getByRole('checkbox', { name: 'Správce obce' }))
    await userEvent.click(screen.getByRole('button', { name: 'Pozvat pracovníka' }))

    expect(await screen.findByText('Pozvánka byla odeslána na novy@liberec.demo.')).toBeInTheDocument()
    expect(bodies[1]).toEqual({ email: 'novy@liberec.demo', name: 'Karel Nový', roles: ['tenant-admin', 'clerk'], lang: 'cs' })
  })

  it('withdraws an invitation', async () => {
    const requests = mockApi(
      routes(['tenant-admin'], { 'DELETE /api/v1/tenants/liberec/invitations/i-1': () => new Response(null, { status: 204 }) }),
    )
    renderApp('/t/liberec/pracovnici')

    await userEvent.click(await screen.findByRole('button', { name: 'Zrušit pozvánku pro nova@liberec.demo' }))
    expect(await screen.findByText('Pozvánka pro nova@liberec.demo byla zrušena.')).toBeInTheDocument()
    expect(requests.some((r) => r.method === 'DELETE')).toBe(true)
  })

  it('shows an auditor the lists without the controls', async () => {
    mockApi(routes(['auditor']))
    renderApp('/t/liberec/pracovnici')

    expect(await screen.findByRole('rowheader', { name: 'Petr Dvořák' })).toBeInTheDocument()
    expect(await screen.findByRole('rowheader', { name: 'nova@liberec.demo' })).toBeInTheDocument()
    expect(screen.queryByRole('button', { name: /Upravit role/ })).not.toBeInTheDocument()
    expect(screen.queryByRole('button', { name: /Zrušit pozvánku/ })).not.toBeInTheDocument()
    expect(screen.queryByRole('heading', { name: 'Pozvat pracovníka' })).not.toBeInTheDocument()
  })

  it('resets a member’s two-factor sign-in with a reason, but not one’s own', async () => {
    const self: Member = { ...admin, userId: me([]).id }
    const both: Member = { userId: 'u-3', email: 'oba@liberec.demo', name: 'Oto Oba', roles: ['clerk'] }
    let body: unknown
    mockApi(
      routes(['tenant-admin'], {
        'GET /api/v1/tenants/liberec/members': { items: [self, clerk, both] },
        'POST /api/v1/tenants/liberec/members/u-2/mfa-reset': async (request: Request) => {
          body = await request.json()
          return new Response(null, { status: 204 })
        },
        'POST /api/v1/tenants/liberec/members/u-3/mfa-reset': () =>
          problem({
            type: '/problems/mfa-reset-elsewhere',
            title: 'Účet pracuje i pro jinou obec nebo pro platformu',
            status: 409,
            requestId: 'r-2',
          }),
      }),
    )
    renderApp('/t/liberec/pracovnici')

    await screen.findByRole('rowheader', { name: 'Petr Dvořák' })
    expect(screen.queryByRole('button', { name: 'Resetovat dvoufázové ověření: Jana Nováková' })).not.toBeInTheDocument()
    await userEvent.click(screen.getByRole('button', { name: 'Resetovat dvoufázové ověření: Petr Dvořák' }))
    const dialog = screen.getByRole('dialog')
    expect(within(dialog).getByText(/ztratil\(a\) telefon s ověřovací aplikací i záchranné kódy/)).toBeInTheDocument()
    await expectAccessible()

    const reason = within(dialog).getByLabelText(/^Důvod/)
    await userEvent.type(reason, ' x ')
    await userEvent.click(within(dialog).getByRole('button', { name: 'Resetovat' }))
    await waitFor(() => expect(reason).toHaveFocus())
    expect(reason).toHaveAttribute('aria-invalid', 'true')
    expect(reason).toHaveAccessibleDescription(expect.stringContaining('Uveďte důvod (alespoň 3 znaky).'))
    expect(body).toBeUndefined()

    await userEvent.clear(reason)
    await userEvent.type(reason, 'Ztracený telefon, ověřeno osobně')
    await userEvent.click(within(dialog).getByRole('button', { name: 'Resetovat' }))
    expect(await screen.findByText(/Dvoufázové ověření pracovníka Petr Dvořák bylo zrušeno/)).toBeInTheDocument()
    expect(body).toEqual({ reason: 'Ztracený telefon, ověřeno osobně', lang: 'cs' })
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument()

    // Staff of another municipality too: the dialog says whom to ask.
    await userEvent.click(screen.getByRole('button', { name: 'Resetovat dvoufázové ověření: Oto Oba' }))
    const second = screen.getByRole('dialog')
    await userEvent.type(within(second).getByLabelText(/^Důvod/), 'Ztracený telefon')
    await userEvent.click(within(second).getByRole('button', { name: 'Resetovat' }))
    expect(await within(second).findByText(/může zrušit jen provozovatel platformy/)).toBeInTheDocument()
    await expectAccessible()
  })
})
