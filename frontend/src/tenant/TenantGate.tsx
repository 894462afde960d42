import { Outlet } from 'react-router'
import { isApiError } from '../api/client'
import { ErrorMessage } from '../components/ErrorMessage'
import { Loading } from '../components/Loading'
import { NotFoundPage } from '../pages/NotFoundPage'
import { useCurrentTenant } from './TenantProvider'

/** Route element of /t/:slug: the municipality's pages, once it is known to exist. */
export function TenantGate() {
  const tenant = useCurrentTenant()
  if (tenant?.profile) return <Outlet />
  if (isApiError(tenant?.error, 404)) return <NotFoundPage />
  if (tenant?.error) return <ErrorMessage error={tenant.error} onRetry={tenant.reload} />
  return <Loading />
}
