import { api, unwrap } from '../api/client'
import { Loaded } from '../components/Loaded'
import { PageHeading } from '../components/PageHeading'
import { useI18n } from '../i18n/I18nProvider'
import type { MessageKey } from '../i18n/messages'
import { useApi } from '../lib/useApi'
import { useTenant } from '../tenant/TenantProvider'

// Actions the kernel records have names people read; a module's own actions show as recorded.
const actionNames: Record<string, MessageKey> = {
  'sign-in': 'audit.action.sign-in',
  'sign-in-failed': 'audit.action.sign-in-failed',
  'settings-changed': 'audit.action.settings-changed',
  'tenant-status': 'audit.action.tenant-status',
  'module-enabled': 'audit.action.module-enabled',
  'module-disabled': 'audit.action.module-disabled',
  'export-requested': 'audit.action.export-requested',
  'export-downloaded': 'audit.action.export-downloaded',
  'tenant-exported': 'audit.action.tenant-exported',
  'tenant-imported': 'audit.action.tenant-imported',
  'token-created': 'audit.action.token-created',
  'token-revoked': 'audit.action.token-revoked',
  'token-used': 'audit.action.token-used',
  'mfa-reset': 'audit.action.mfa-reset',
}

// The municipality's security audit log: who signed in, changed settings or roles, and what
// the platform did to the tenant. The entries are hash-chained on the server.
export function AuditPage() {
  const { t, formatDateTime } = useI18n()
  const { slug } = useTenant()
  const list = useApi(
    () => unwrap(api.GET('/api/v1/tenants/{tenant}/audit', { params: { path: { tenant: slug }, query: { limit: 200 } } })),
    [slug],
  )

  return (
    <>
      <PageHeading>{t('audit.title')}</PageHeading>
      <p>{t('audit.intro')}</p>
      <Loaded
        state={list}
        isEmpty={(data) => data.items.length === 0}
        empty={<p>{t('audit.empty')}</p>}
      >
        {(data) => (
        <div className="epom-table-wrap">
          <table className="epom-table">
            <caption>{t('audit.caption')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('audit.when')}</th>
                <th scope="col">{t('audit.who')}</th>
                <th scope="col">{t('audit.action')}</th>
                <th scope="col">{t('audit.details')}</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((e) => (
                <tr key={e.seq}>
                  <td>{formatDateTime(e.at)}</td>
                  <td>
                    {e.actor}
                    {e.ip ? ` (${e.ip})` : ''}
                  </td>
                  <th scope="row">
                    {e.action in actionNames ? t(actionNames[e.action]) : e.action}
                    {e.target ? `: ${e.target}` : ''}
                  </th>
                  <td>
                    {Object.entries(e.details)
                      .map(([k, v]) => `${k}: ${v}`)
                      .join(', ')}
                  </td>
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
