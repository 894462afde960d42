import { screen, waitFor } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import type { components } from '../api/schema'
import { json, me, mockApi, problem, tenantRoutes } from '../test/api'
import { expectAccessible } from '../test/axe'
import { renderApp } from '../test/render'

const token = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
const preview: components['schemas']['InvitationPreview'] = {
  tenantSlug: 'liberec',
  tenantName: 'Statutární město Liberec',
  email: 'nova@liberec.demo',
  name: 'Eva Nová',
  roles: ['clerk', 'auditor'],
  expiresAt: '2026-11-27T08:00:00Z',
  expired: false,
  hasAccount: false,
  inviterName: 'Jana Nováková',
}
const signedOut = () =>
  problem({ type: '/problems/unauthenticated', title: 'Je třeba se přihlásit', status: 401 })

describe('invitation page', () => {
  it('sets up a new account, accepts and opens the municipality', async () => {
    let signedIn = false
    let body: unknown
    const newcomer = me(['clerk', 'auditor'], { email: 'nova@liberec.demo', name: 'Eva Nová' })
    mockApi({
      ...tenantRoutes(newcomer),
      'GET /api/v1/me': () => (signedIn ? json(newcomer) : signedOut()),
      [`GET /api/v1/invitations/${token}`]: preview,
      [`POST /api/v1/invitations/${token}/accept`]: async (request: Request) => {
        body = await request.json()
        if ((body as { password: string }).password.length < 10) {
          return problem({
            type: '/problems/validation',
            title: 'Požadavek není platný',
            status: 400,
            errors: [{ field: '/password', message: 'Heslo musí mít alespoň 10 znaků.' }],
          })
        }
        signedIn = true
        return json(newcomer)
      },
    })
    renderApp(`/pozvanka?token=${token}`)

    expect(await screen.findByRole('heading', { level: 1, name: 'Pozvánka: Statutární město Liberec' })).toBeInTheDocument()
    expect(screen.getByText(/Jana Nováková vás zve ke spolupráci/)).toBeInTheDocument()
    expect(screen.getByText(/Role: Úředník, Auditor\./)).toBeInTheDocument()
    const name = screen.getByLabelText(/Jméno a příjmení/)
    expect(name).toHaveValue('Eva Nová')

    const password = screen.getByLabelText(/Nové heslo/)
    await userEvent.type(password, 'kratke')
    await userEvent.click(screen.getByRole('button', { name: 'Vytvořit účet a přijmout pozvánku' }))
    await waitFor(() => expect(password).toHaveFocus())
    expect(password).toHaveAccessibleDescription(expect.stringContaining('Heslo musí mít alespoň 10 znaků.'))
    await expectAccessible()

    await userEvent.type(password, ' a delší')
    await userEvent.click(screen.getByRole('button', { name: 'Vytvořit účet a přijmout pozvánku' }))

    expect(await screen.findByRole('heading', { level: 1, name: 'Přehled' })).toBeInTheDocument()
    expect(body).toEqual({ name: 'Eva Nová', password: 'kratke a delší' })
  })

  it('sends an existing account to sign in first and back', async () => {
    mockApi({
      'GET /api/v1/me': signedOut,
      [`GET /api/v1/invitations/${token}`]: { ...preview, hasAccount: true },
    })
    renderApp(`/pozvanka?token=${token}`)

    const link = await screen.findByRole('link', { name: 'Přihlásit se' })
    expect(link).toHaveAttribute('href', `/prihlaseni?next=${encodeURIComponent(`/pozvanka?token=${token}`)}`)
    expect(screen.queryByLabelText(/Nové heslo/)).not.toBeInTheDocument()
    await expectAccessible()
  })

  it('accepts for the signed-in invitee', async () => {
    const requests = mockApi({
      ...tenantRoutes(me(['clerk'], { email: 'nova@liberec.demo' })),
      [`GET /api/v1/invitations/${token}`]: { ...preview, hasAccount: true },
      [`POST /api/v1/invitations/${token}/accept`]: me(['clerk'], { email: 'nova@liberec.demo' }),
    })
    renderApp(`/pozvanka?token=${token}`)

    await userEvent.click(await screen.findByRole('button', { name: 'Přijmout pozvánku' }))
    expect(await screen.findByRole('heading', { level: 1, name: 'Přehled' })).toBeInTheDocument()
    expect(requests.find((r) => r.method === 'POST')!.headers.get('X-CSRF-Token')).toBe('csrf-123')
  })

  it('tells another signed-in account to sign out', async () => {
    mockApi({
      'GET /api/v1/me': me(['tenant-admin']),
      [`GET /api/v1/invitations/${token}`]: preview,
    })
    renderApp(`/pozvanka?token=${token}`)

    expect(
      await screen.findByText(
        'Jste přihlášeni jako starosta@liberec.demo, ale pozvánka je pro nova@liberec.demo. Odhlaste se a otevřete odkaz znovu.',
      ),
    ).toBeInTheDocument()
    expect(screen.queryByRole('button', { name: 'Přijmout pozvánku' })).not.toBeInTheDocument()
  })

  it('explains an expired link', async () => {
    mockApi({ 'GET /api/v1/me': signedOut, [`GET /api/v1/invitations/${token}`]: { ...preview, expired: true } })
    renderApp(`/pozvanka?token=${token}`)
    expect(await screen.findByText(/Platnost pozvánky vypršela 27\. 11\. 2026 9:00\./)).toBeInTheDocument()
    expect(screen.queryByRole('button', { name: /Přijmout|Vytvořit/ })).toBeNull()
    expect(screen.queryByLabelText(/Nové heslo/)).toBeNull()
  })

  it('shows the problem of a withdrawn link', async () => {
    mockApi({
      'GET /api/v1/me': signedOut,
      [`GET /api/v1/invitations/${token}`]: () =>
        problem({ type: '/problems/invitation-revoked', title: 'Pozvánka byla zrušena', status: 410 }),
    })
    renderApp(`/pozvanka?token=${token}`)
    expect(await screen.findByText('Pozvánka byla zrušena')).toBeInTheDocument()
  })
})
