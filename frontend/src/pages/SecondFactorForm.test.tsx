import { screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import { json, me, mockApi, problem, tenantRoutes } from '../test/api'
import { renderApp } from '../test/render'

const signedOut = () => problem({ type: '/problems/unauthenticated', title: 'Je třeba se přihlásit', status: 401 })
const challenge = () =>
  json({ mfaRequired: true, methods: ['totp', 'recovery-code'], expiresAt: '2026-11-22T05:00:00Z' }, 202)

async function enterPassword() {
  await userEvent.type(await screen.findByLabelText(/E-mail/), 'starosta@liberec.demo')
  await userEvent.type(screen.getByLabelText(/Heslo/), 'demo-heslo-2026')
  await userEvent.click(screen.getByRole('button', { name: 'Přihlásit se' }))
}

describe('two-step sign-in', () => {
  it('asks for the code after the password and signs in with it', async () => {
    const user = me(['tenant-admin'])
    const requests = mockApi({
      ...tenantRoutes(user),
      'GET /api/v1/me': signedOut,
      'POST /api/v1/session': challenge,
      'POST /api/v1/session/mfa': () => json(user),
    })
    renderApp('/prihlaseni')
    await enterPassword()

    const code = await screen.findByLabelText(/Ověřovací kód/, undefined, { timeout: 5000 })
    expect(code).toHaveAttribute('autocomplete', 'one-time-code')
    expect(code).toHaveFocus()
    await userEvent.type(code, '123 456')
    await userEvent.click(screen.getByRole('button', { name: 'Ověřit' }))

    expect(await screen.findByRole('heading', { level: 1, name: 'Přehled' }, { timeout: 5000 })).toBeInTheDocument()
    const second = requests.find((r) => r.url.endsWith('/api/v1/session/mfa'))!
    expect(await second.clone().json()).toEqual({ code: '123456' })
  })

  it('shows a wrong code at the field with the tries left, and offers a recovery code', async () => {
    const requests = mockApi({
      'GET /api/v1/me': signedOut,
      'POST /api/v1/session': challenge,
      'POST /api/v1/session/mfa': () =>
        problem({ type: '/problems/wrong-code', title: 'Nesprávný kód', status: 400, detail: '4 tries left.' }),
    })
    renderApp('/prihlaseni')
    await enterPassword()

    await userEvent.type(await screen.findByLabelText(/Ověřovací kód/), '000000')
    await userEvent.click(screen.getByRole('button', { name: 'Ověřit' }))
    const code = screen.getByLabelText(/Ověřovací kód/)
    expect(await screen.findByText(/Nesprávný nebo již použitý kód. Zbývající pokusy: 4./)).toBeInTheDocument()
    expect(code).toHaveAttribute('aria-invalid', 'true')
    expect(code).toHaveFocus()

    await userEvent.click(screen.getByRole('button', { name: 'Použít záchranný kód' }))
    await userEvent.type(await screen.findByLabelText(/Záchranný kód/), 'abcde-fghjk')
    await userEvent.click(screen.getByRole('button', { name: 'Ověřit' }))
    const last = requests.filter((r) => r.url.endsWith('/api/v1/session/mfa')).at(-1)!
    expect(await last.clone().json()).toEqual({ recoveryCode: 'abcde-fghjk' })
  })

  it('goes back to the password when the pending sign-in ended', async () => {
    mockApi({
      'GET /api/v1/me': signedOut,
      'POST /api/v1/session': challenge,
      'POST /api/v1/session/mfa': () =>
        problem({ type: '/problems/mfa-login-expired', title: 'Přihlášení vypršelo', status: 401 }),
    })
    renderApp('/prihlaseni')
    await enterPassword()
    await userEvent.type(await screen.findByLabelText(/Ověřovací kód/), '111111')
    await userEvent.click(screen.getByRole('button', { name: 'Ověřit' }))

    expect(await screen.findByText(/Přihlášení vypršelo nebo bylo zadáno příliš mnoho chybných kódů/)).toBeInTheDocument()
    expect(screen.getByLabelText(/Heslo/)).toBeInTheDocument()
  })
})
