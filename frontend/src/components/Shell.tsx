import { useEffect, useRef } from 'react'
import { Outlet, useLocation, useMatch } from 'react-router'
import { useI18n } from '../i18n/I18nProvider'
import { useSession } from '../session/SessionProvider'
import { TenantProvider } from '../tenant/TenantProvider'
import { AppFooter } from './AppFooter'
import { AppHeader } from './AppHeader'

/** Skip link, header with navigation, the routed page in <main>, footer. */
export function Shell() {
  const { t } = useI18n()
  const { me } = useSession()
  const slug = useMatch('/t/:slug/*')?.params.slug
  const { pathname } = useLocation()
  const mainRef = useRef<HTMLElement>(null)
  const shownPath = useRef(pathname)

  // After a client-side navigation, focus the new page's heading, as a full page load would put a
  // screen reader at the top of the new content. The first render keeps the browser's focus.
  useEffect(() => {
    if (shownPath.current === pathname) return
    shownPath.current = pathname
    const heading = mainRef.current?.querySelector<HTMLElement>('h1')
    ;(heading ?? mainRef.current)?.focus()
  }, [pathname])

  const page = (
    <>
      <a className="epom-skip-link" href="#main">
        {t('app.skipLink')}
      </a>
      <AppHeader />
      <main id="main" className="epom-main" ref={mainRef} tabIndex={-1}>
        <Outlet />
      </main>
      <AppFooter />
    </>
  )

  // Keyed by slug so that switching municipality starts from a clean state.
  return me && slug ? (
    <TenantProvider key={slug} slug={slug}>
      {page}
    </TenantProvider>
  ) : (
    page
  )
}
