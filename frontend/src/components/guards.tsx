import type { ReactNode } from 'react'
import { Navigate, Outlet, useLocation } from 'react-router'
import { ForbiddenPage } from '../pages/ForbiddenPage'
import { hasAnyRole, isPlatformAdmin } from '../session/roles'
import { useSession } from '../session/SessionProvider'
import { useTenant } from '../tenant/TenantProvider'
import { ErrorMessage } from './ErrorMessage'
import { Loading } from './Loading'

/** Route element for everything behind sign-in; sends others to sign in and back here afterwards. */
export function RequireSession() {
  const { state, reload } = useSession()
  const location = useLocation()

  switch (state.status) {
    case 'loading':
      return <Loading />
    case 'failed':
      return <ErrorMessage error={state.error} onRetry={reload} />
    case 'signed-out': {
      // Someone who just signed out should not hand the next user their last page.
      if (state.byUser) return <Navigate to="/prihlaseni" replace />
      const next = encodeURIComponent(location.pathname + location.search)
      return <Navigate to={`/prihlaseni?next=${next}`} replace />
    }
    case 'signed-in':
      // mfa: staff without a second factor can do nothing else until they enrol.
      if (state.me.mfaRequired && !location.pathname.startsWith('/ucet')) return <Navigate to="/ucet" replace />
      return <Outlet />
  }
}

export function RequirePlatformAdmin({ children }: { children: ReactNode }) {
  const { me } = useSession()
  return isPlatformAdmin(me) ? children : <ForbiddenPage />
}

export function RequireTenantRole({ roles, children }: { roles: readonly string[]; children: ReactNode }) {
  const { membership } = useTenant()
  return hasAnyRole(membership, roles) ? children : <ForbiddenPage />
}
