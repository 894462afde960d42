import { createContext, use, useMemo, type ReactNode } from 'react'
import { api, unwrap, type Membership, type ModuleInfo, type TenantProfile } from '../api/client'
import { useApi } from '../lib/useApi'
import { membershipOf } from '../session/roles'
import { useSession } from '../session/SessionProvider'

export interface CurrentTenant {
  slug: string
  /** The signed-in user's membership in this municipality; absent for e.g. a visiting platform admin. */
  membership?: Membership
  profile?: TenantProfile
  modules?: ModuleInfo[]
  error?: unknown
  reload: () => void
}

const TenantContext = createContext<CurrentTenant | undefined>(undefined)

async function loadTenant(slug: string) {
  const tenant = { params: { path: { tenant: slug } } }
  const [profile, modules] = await Promise.all([
    unwrap(api.GET('/api/v1/tenants/{tenant}', tenant)),
    unwrap(api.GET('/api/v1/tenants/{tenant}/modules', tenant)),
  ])
  return { profile, modules: modules.items }
}

/** Loads the municipality named in the URL once for the header, the navigation and its pages. */
export function TenantProvider({ slug, children }: { slug: string; children: ReactNode }) {
  const { me } = useSession()
  const { data, error, reload } = useApi(() => loadTenant(slug), [slug])

  const tenant = useMemo<CurrentTenant>(
    () => ({ slug, membership: membershipOf(me, slug), ...data, error, reload }),
    [slug, me, data, error, reload],
  )
  return <TenantContext value={tenant}>{children}</TenantContext>
}

/** The municipality of the current page, if the page belongs to one. */
export function useCurrentTenant(): CurrentTenant | undefined {
  return use(TenantContext)
}

/** For pages under /t/{slug}/, which TenantGate renders only once the tenant has loaded. */
export function useTenant(): Required<Pick<CurrentTenant, 'profile' | 'modules'>> & CurrentTenant {
  const tenant = use(TenantContext)
  if (!tenant?.profile || !tenant.modules) throw new Error('useTenant must be used below <TenantGate>')
  return { ...tenant, profile: tenant.profile, modules: tenant.modules }
}
