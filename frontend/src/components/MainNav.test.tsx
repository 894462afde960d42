import { render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import type { Membership } from '../api/client'
import { modules } from '../test/api'
import { withProviders } from '../test/render'
import { LanguageSwitch } from './LanguageSwitch'
import { MainNav } from './MainNav'

function membership(roles: string[]): Membership {
  return { tenantId: 't1', slug: 'liberec', name: 'Liberec', roles }
}

function navLinks() {
  const nav = screen.getByRole('navigation', { name: 'Hlavní navigace' })
  return within(nav)
    .getAllByRole('link')
    .map((link) => [link.textContent, link.getAttribute('href')])
}

describe('main navigation', () => {
  it('lists the overview, the enabled modules in order and the pages an admin may open', () => {
    render(
      withProviders(
        <MainNav
          tenant={{ slug: 'liberec', modules, membership: membership(['tenant-admin']) }}
          platformAdmin={false}
        />,
        '/t/liberec',
      ),
    )

    expect(navLinks()).toEqual([
      ['Přehled', '/t/liberec'],
      ['Úřední deska', '/t/liberec/m/noticeboard'],
      ['Petice', '/t/liberec/m/petitions'],
      ['Nastavení obce', '/t/liberec/nastaveni'],
      ['Pracovníci', '/t/liberec/pracovnici'],
      ['Odeslaná pošta', '/t/liberec/posta'],
      ['Bezpečnostní záznamy', '/t/liberec/zaznamy'],
      ['Export dat', '/t/liberec/export'],
      ['API tokeny', '/t/liberec/tokeny'],
    ])
    expect(screen.getByRole('link', { name: 'Přehled' })).toHaveAttribute('aria-current', 'page')
  })

  it('offers an auditor the staff list but not the settings, and a platform admin the platform', () => {
    render(
      withProviders(
        <MainNav tenant={{ slug: 'liberec', modules: [], membership: membership(['auditor']) }} platformAdmin />,
        '/t/liberec',
      ),
    )

    expect(navLinks()).toEqual([
      ['Přehled', '/t/liberec'],
      ['Pracovníci', '/t/liberec/pracovnici'],
      ['Odeslaná pošta', '/t/liberec/posta'],
      ['Bezpečnostní záznamy', '/t/liberec/zaznamy'],
      ['Správa platformy', '/platforma'],
    ])
  })

  it('names modules in the chosen language', async () => {
    render(
      withProviders(
        <>
          <LanguageSwitch />
          <MainNav tenant={{ slug: 'liberec', modules, membership: membership([]) }} platformAdmin={false} />
        </>,
      ),
    )

    await userEvent.click(screen.getByRole('button', { name: 'English' }))

    const nav = screen.getByRole('navigation', { name: 'Main navigation' })
    expect(
      within(nav)
        .getAllByRole('link')
        .map((link) => link.textContent),
    ).toEqual(['Overview', 'Official noticeboard', 'Petitions'])
  })
})
