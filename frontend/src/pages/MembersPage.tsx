import { api, unwrap } from '../api/client'
import { Loaded } from '../components/Loaded'
import { PageHeading } from '../components/PageHeading'
import { useI18n } from '../i18n/I18nProvider'
import type { MessageKey } from '../i18n/messages'
import { useApi } from '../lib/useApi'
import { useTenant } from '../tenant/TenantProvider'

// Kernel roles have translated names; roles that modules define are shown as the API spells them.
const roleNames: Record<string, MessageKey> = { 'tenant-admin': 'role.tenant-admin', auditor: 'role.auditor' }

export function MembersPage() {
  const { t } = useI18n()
  const roleName = (role: string) => (role in roleNames ? t(roleNames[role]) : role)
  const { slug } = useTenant()
  const list = useApi(
    () => unwrap(api.GET('/api/v1/tenants/{tenant}/members', { params: { path: { tenant: slug } } })),
    [slug],
  )

  return (
    <>
      <PageHeading>{t('members.title')}</PageHeading>
      <Loaded
        state={list}
        isEmpty={(data) => data.items.length === 0}
        empty={<p>{t('members.empty')}</p>}
      >
        {(data) => (
        <div className="epom-table-wrap">
          <table className="epom-table">
            <caption>{t('members.caption')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('members.name')}</th>
                <th scope="col">{t('members.email')}</th>
                <th scope="col">{t('members.roles')}</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((member) => (
                <tr key={member.userId}>
                  <th scope="row">{member.name}</th>
                  <td>
                    <a href={`mailto:${member.email}`}>{member.email}</a>
                  </td>
                  <td>{member.roles.map(roleName).join(', ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        )}
      </Loaded>
    </>
  )
}
