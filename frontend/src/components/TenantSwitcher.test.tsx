import { render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import { Route, Routes, useLocation } from 'react-router'
import type { Membership } from '../api/client'
import { withProviders } from '../test/render'
import { TenantSwitcher } from './TenantSwitcher'

const liberec: Membership = { tenantId: 't1', slug: 'liberec', name: 'Liberec', roles: ['tenant-admin'] }
const kunzak: Membership = { tenantId: 't2', slug: 'kunzak', name: 'Kunžak', roles: ['auditor'] }

function Where() {
  return <p data-testid="path">{useLocation().pathname}</p>
}

function renderSwitcher(memberships: Membership[]) {
  return render(
    withProviders(
      <Routes>
        <Route
          path="*"
          element={
            <>
              <TenantSwitcher memberships={memberships} currentSlug="liberec" />
              <Where />
            </>
          }
        />
      </Routes>,
      '/t/liberec',
    ),
  )
}

describe('tenant switcher', () => {
  it('is absent for a single membership', () => {
    renderSwitcher([liberec])
    expect(screen.queryByRole('combobox')).not.toBeInTheDocument()
  })

  it('lists the memberships and opens the chosen municipality', async () => {
    renderSwitcher([liberec, kunzak])

    const select = screen.getByRole('combobox', { name: 'Obec' })
    expect(select).toHaveValue('liberec')
    expect(screen.getAllByRole('option').map((o) => o.textContent)).toEqual(['Liberec', 'Kunžak'])

    await userEvent.selectOptions(select, 'kunzak')
    expect(screen.getByTestId('path')).toHaveTextContent('/t/kunzak')
  })
})
