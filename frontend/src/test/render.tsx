import { render } from '@testing-library/react'
import type { ReactNode } from 'react'
import { MemoryRouter } from 'react-router'
import { AppRoutes } from '../App'
import { I18nProvider } from '../i18n/I18nProvider'
import { SessionProvider } from '../session/SessionProvider'

export function withProviders(ui: ReactNode, path = '/') {
  return (
    <I18nProvider>
      <SessionProvider>
        <MemoryRouter initialEntries={[path]}>{ui}</MemoryRouter>
      </SessionProvider>
    </I18nProvider>
  )
}

/** The whole SPA at `path` (relative to /app), against whatever fetch the test stubbed. */
export function renderApp(path: string) {
  return render(withProviders(<AppRoutes />, path))
}
