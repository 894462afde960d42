import { screen } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { mockApi, problem } from '../test/api'
import { renderApp } from '../test/render'

const signedOut = () => problem({ type: '/problems/unauthenticated', title: 'Nepřihlášen', status: 401 })

describe('external sign-in', () => {
  it('offers one button per provider, carrying the page the user wanted', async () => {
    mockApi({
      'GET /api/v1/me': signedOut,
      'GET /api/v1/auth/providers': {
        items: [
          { id: 'nia', name: 'Identita občana', startUrl: '/auth/oidc/nia' },
          { id: 'liberec', name: 'Portál Liberce', startUrl: '/auth/oidc/liberec' },
        ],
      },
    })
    renderApp('/prihlaseni?next=/t/liberec/nastaveni')

    const nia = await screen.findByRole('link', { name: 'Přihlásit se přes Identita občana' })
    expect(nia).toHaveAttribute('href', '/auth/oidc/nia?next=%2Fapp%2Ft%2Fliberec%2Fnastaveni')
    expect(screen.getByRole('link', { name: 'Přihlásit se přes Portál Liberce' })).toHaveAttribute(
      'href',
      '/auth/oidc/liberec?next=%2Fapp%2Ft%2Fliberec%2Fnastaveni',
    )
    expect(screen.getByRole('heading', { level: 2, name: 'Další způsoby přihlášení' })).toBeInTheDocument()
  })

  it('never passes on a foreign next', async () => {
    mockApi({
      'GET /api/v1/me': signedOut,
      'GET /api/v1/auth/providers': { items: [{ id: 'nia', name: 'Identita občana', startUrl: '/auth/oidc/nia' }] },
    })
    renderApp('/prihlaseni?next=//evil.example')

    const nia = await screen.findByRole('link', { name: 'Přihlásit se přes Identita občana' })
    expect(nia).toHaveAttribute('href', '/auth/oidc/nia?next=%2Fapp%2F')
  })

  it('shows nothing when the deployment has no providers or the list fails', async () => {
    mockApi({ 'GET /api/v1/me': signedOut, 'GET /api/v1/auth/providers': { items: [] } })
    renderApp('/prihlaseni')
    expect(await screen.findByRole('heading', { level: 1, name: 'Přihlášení' })).toBeInTheDocument()
    expect(screen.queryByRole('heading', { name: 'Další způsoby přihlášení' })).not.toBeInTheDocument()
    expect(screen.queryByRole('link', { name: /Přihlásit se přes/ })).not.toBeInTheDocument()
  })
})
