import { screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import { json, me, mockApi, problem, tenantRoutes } from '../../test/api'
import { renderApp } from '../../test/render'
import { recoveryFile } from './RecoveryCodes'

const sessions = {
  items: [
    {
      id: '0199a000-0000-7000-8000-000000000001',
      createdAt: '2026-11-22T07:00:00Z',
      lastSeenAt: '2026-11-22T08:00:00Z',
      expiresAt: '2026-11-22T19:00:00Z',
      ip: '192.0.2.1',
      userAgent: 'Firefox',
      method: 'password+totp',
      current: true,
    },
    {
      id: '0199a000-0000-7000-8000-000000000002',
      createdAt: '2026-11-21T07:00:00Z',
      lastSeenAt: '2026-11-21T09:00:00Z',
      expiresAt: '2026-11-21T19:00:00Z',
      ip: '192.0.2.2',
      userAgent: 'Chrome',
      method: 'password',
      current: false,
    },
  ],
}

const codes = Array.from({ length: 10 }, (_, i) => `abcde-fgh${i}k`)

describe('account security page', () => {
  it('sends staff who must enrol there, with the reason, and enrols them', async () => {
    let enrolled = false
    const user = () => me(['clerk'], { mfaEnabled: enrolled, mfaRequired: !enrolled, recoveryCodesRemaining: enrolled ? 10 : undefined })
    const requests = mockApi({
      ...tenantRoutes(user()),
      'GET /api/v1/me': () => json(user()),
      'GET /api/v1/me/sessions': sessions,
      'POST /api/v1/me/totp': {
        secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
        otpauthUri: 'otpauth://totp/epom:starosta@liberec.demo?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=epom',
        qrCode: 'data:image/png;base64,iVBORw0KGgo=',
      },
      'POST /api/v1/me/totp/confirm': async (request: Request) => {
        const { code } = await request.json()
        if (code !== '654321') return problem({ type: '/problems/wrong-code', title: 'Nesprávný kód', status: 400 })
        enrolled = true
        return json({ codes })
      },
    })
    renderApp('/t/liberec')

    expect(await screen.findByRole('heading', { level: 1, name: 'Zabezpečení účtu' }, { timeout: 5000 })).toBeInTheDocument()
    expect(screen.getByText(/musí přihlašovat dvoufázově/)).toBeInTheDocument()
    await userEvent.click(screen.getByRole('button', { name: 'Zapnout dvoufázové ověření' }))

    expect(await screen.findByRole('img', { name: 'QR kód s klíčem pro ověřovací aplikaci' })).toHaveAttribute(
      'src',
      'data:image/png;base64,iVBORw0KGgo=',
    )
    expect(screen.getByText('JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP')).toBeInTheDocument()
    const code = screen.getByLabelText(/Ověřovací kód/)
    await userEvent.type(code, '111111')
    await userEvent.click(screen.getByRole('button', { name: 'Potvrdit a zapnout' }))
    expect(await screen.findByText('Nesprávný nebo již použitý kód.')).toBeInTheDocument()
    expect(code).toHaveFocus()

    await userEvent.clear(code)
    await userEvent.type(code, '654321')
    await userEvent.click(screen.getByRole('button', { name: 'Potvrdit a zapnout' }))

    const list = await screen.findByRole('heading', { name: 'Vaše záchranné kódy' }, { timeout: 5000 })
    expect(list).toHaveFocus()
    expect(screen.getAllByRole('listitem').map((li) => li.textContent)).toEqual(codes)
    expect(screen.getByRole('button', { name: 'Stáhnout jako .txt' })).toBeInTheDocument()
    expect(screen.queryByText(/musí přihlašovat dvoufázově/)).not.toBeInTheDocument()
    const confirm = requests.find((r) => r.url.endsWith('/confirm'))!
    expect(confirm.headers.get('X-CSRF-Token')).toBe('csrf-123')
  })

  it('lists my sessions and signs another one out', async () => {
    const requests = mockApi({
      ...tenantRoutes(me(['clerk'], { recoveryCodesRemaining: 7 })),
      'GET /api/v1/me/sessions': sessions,
      'DELETE /api/v1/me/sessions/0199a000-0000-7000-8000-000000000002': () => new Response(null, { status: 204 }),
    })
    renderApp('/ucet')

    expect(await screen.findByText('Nepoužité záchranné kódy: 7.')).toBeInTheDocument()
    const table = await screen.findByRole('table', { name: 'Kde jste přihlášeni' })
    const rows = within(table).getAllByRole('row')
    expect(rows).toHaveLength(3)
    expect(within(rows[1]).getByText('Toto zařízení')).toBeInTheDocument()
    expect(within(rows[1]).getByText('Heslo a kód z aplikace')).toBeInTheDocument()
    await userEvent.click(within(rows[2]).getByRole('button', { name: /Odhlásit zařízení přihlášené/ }))

    expect(await screen.findByText('Zařízení bylo odhlášeno.')).toBeInTheDocument()
    const revoke = requests.find((r) => r.method === 'DELETE')!
    expect(revoke.headers.get('X-CSRF-Token')).toBe('csrf-123')
    expect(screen.getByRole('link', { name: 'Změnit heslo' })).toHaveAttribute('href', '/ucet/heslo')
  })
})

describe('recovery file', () => {
  it('has one code a line under the account name', () => {
    expect(recoveryFile('a@b.cz', ['x', 'y']).split('\n')).toEqual([
      'epom — záchranné kódy / recovery codes: a@b.cz',
      '',
      'x',
      'y',
      '',
    ])
  })
})
