import { GovFormLabel, GovFormSelect } from '@gov-design-system-ce/react'
import { useNavigate } from 'react-router'
import type { Membership } from '../api/client'
import { useI18n } from '../i18n/I18nProvider'

/** Moves between the municipalities the user works for; absent when there is only one. */
export function TenantSwitcher({ memberships, currentSlug }: { memberships: Membership[]; currentSlug?: string }) {
  const { t } = useI18n()
  const navigate = useNavigate()
  if (memberships.length < 2) return null

  const id = 'epom-tenant-switcher'
  return (
    <div className="epom-tenant-switcher">
      <GovFormLabel identifier={id} size="s">
        {t('tenantSwitcher.label')}
      </GovFormLabel>
      <GovFormSelect
        identifier={id}
        size="s"
        value={currentSlug ?? ''}
        onChange={(event) => navigate(`/t/${event.target.value}`)}
      >
        {!currentSlug && (
          <option value="" disabled>
            {t('tenantSwitcher.choose')}
          </option>
        )}
        {memberships.map((membership) => (
          <option key={membership.tenantId} value={membership.slug}>
            {membership.name}
          </option>
        ))}
      </GovFormSelect>
    </div>
  )
}
