import { Link } from 'react-router'
import { useI18n } from '../i18n/I18nProvider'
import { isPlatformAdmin, operatorKraje } from '../session/roles'
import { useSession } from '../session/SessionProvider'
import { useCurrentTenant } from '../tenant/TenantProvider'
import { LanguageSwitch } from './LanguageSwitch'
import { MainNav } from './MainNav'
import { TenantSwitcher } from './TenantSwitcher'
import { UserMenu } from './UserMenu'

export function AppHeader() {
  const { t } = useI18n()
  const { me } = useSession()
  const tenant = useCurrentTenant()
  // The membership's name is known at once; the profile (with the display name) follows.
  const tenantName = tenant?.profile?.name ?? tenant?.membership?.name

  return (
    <header className="epom-header">
      <div className="epom-header__bar">
        <div className="epom-header__brand">
          <Link to="/" className="epom-header__product" aria-label={t('app.homeLink')}>
            {t('app.name')}
          </Link>
          {tenantName && <span className="epom-header__tenant">{tenantName}</span>}
        </div>
        <div className="epom-header__tools">
          {me && <TenantSwitcher memberships={me.memberships} currentSlug={tenant?.slug} />}
          <LanguageSwitch />
          {me && <UserMenu me={me} />}
        </div>
      </div>
      {me && (
        <MainNav
          tenant={tenant?.modules && { slug: tenant.slug, modules: tenant.modules, membership: tenant.membership }}
          platformAdmin={isPlatformAdmin(me)}
          operatorKraje={operatorKraje(me)}
        />
      )}
    </header>
  )
}
