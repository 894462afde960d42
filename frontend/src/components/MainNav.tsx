import { NavLink } from 'react-router'
import type { Membership, ModuleInfo } from '../api/client'
import { useI18n } from '../i18n/I18nProvider'
import { krajName } from '../operator/kraje'
import { hasAnyRole, logsRoles, membersRoles, settingsRoles, tokensRoles } from '../session/roles'

interface MainNavProps {
  /** Set on the pages of one municipality. */
  tenant?: { slug: string; modules: ModuleInfo[]; membership?: Membership }
  platformAdmin: boolean
  /** The kraje whose operator console the user may open. */
  operatorKraje?: string[]
}

interface Item {
  to: string
  label: string
  /** Active only on exactly this path, not on the pages below it. */
  end?: boolean
}

/**
 * The municipality's overview, its enabled modules in the API's menu order, the kernel pages the
 * user's roles allow, and platform administration for platform admins.
 */
export function MainNav({ tenant, platformAdmin, operatorKraje = [] }: MainNavProps) {
  const { t, pick } = useI18n()
  const items: Item[] = []

  if (tenant) {
    const base = `/t/${tenant.slug}`
    items.push({ to: base, label: t('nav.overview'), end: true })
    for (const module of tenant.modules) {
      items.push({ to: `${base}/m/${module.id}`, label: pick(module.name) })
    }
    if (hasAnyRole(tenant.membership, settingsRoles)) items.push({ to: `${base}/nastaveni`, label: t('nav.settings') })
    if (hasAnyRole(tenant.membership, membersRoles)) items.push({ to: `${base}/pracovnici`, label: t('nav.members') })
    if (hasAnyRole(tenant.membership, logsRoles)) {
      items.push({ to: `${base}/posta`, label: t('nav.mail') })
      items.push({ to: `${base}/zaznamy`, label: t('nav.audit') })
    }
    if (hasAnyRole(tenant.membership, settingsRoles)) items.push({ to: `${base}/export`, label: t('nav.export') })
    if (hasAnyRole(tenant.membership, tokensRoles)) items.push({ to: `${base}/tokeny`, label: t('nav.tokens') })
  }
  if (platformAdmin) items.push({ to: '/platforma', label: t('nav.platform') })
  for (const kraj of operatorKraje) items.push({ to: `/kraj/${kraj}`, label: t('nav.operator', { kraj: krajName(kraj) }) })

  if (items.length === 0) return null
  return (
    <nav className="epom-nav" aria-label={t('nav.label')}>
      <ul className="epom-nav__list">
        {items.map((item) => (
          <li key={item.to}>
            <NavLink to={item.to} end={item.end} className="epom-nav__link">
              {item.label}
            </NavLink>
          </li>
        ))}
      </ul>
    </nav>
  )
}
