import { useState } from 'react'
import { GovFormLabel, GovFormSelect } from '@gov-design-system-ce/react'
import { api, unwrap } from '../api/client'
import { Loaded } from '../components/Loaded'
import { PageHeading } from '../components/PageHeading'
import { useI18n } from '../i18n/I18nProvider'
import type { MessageKey } from '../i18n/messages'
import { useApi } from '../lib/useApi'
import { useTenant } from '../tenant/TenantProvider'
import { Pager } from '../components/Pager'

type Status = 'queued' | 'sent' | 'failed' | 'not_sent'
const statuses: Status[] = ['queued', 'sent', 'failed', 'not_sent']
const statusNames: Record<Status, MessageKey> = {
  queued: 'mail.status.queued',
  sent: 'mail.status.sent',
  failed: 'mail.status.failed',
  not_sent: 'mail.status.not_sent',
}
const pageSize = 50

// What epom mailed on the municipality's behalf: the tenant admin's proof that a citizen was
// told, and the place to see why a message did not arrive.
export function MailLogPage() {
  const { t, formatDateTime } = useI18n()
  const { slug } = useTenant()
  const [status, setStatus] = useState<Status | ''>('')
  const [offset, setOffset] = useState(0)
  const list = useApi(
    () =>
      unwrap(
        api.GET('/api/v1/tenants/{tenant}/mail-log', {
          params: { path: { tenant: slug }, query: { status: status || undefined, limit: pageSize, offset } },
        }),
      ),
    [slug, status, offset],
  )

  return (
    <>
      <PageHeading>{t('mail.title')}</PageHeading>
      <p>{t('mail.intro')}</p>
      <div className="epom-filter">
        <GovFormLabel identifier="mail-status" size="m">
          {t('mail.filter.status')}
        </GovFormLabel>
        <GovFormSelect
          identifier="mail-status"
          size="m"
          value={status}
          onChange={(e) => {
            setStatus(e.target.value as Status | '')
            setOffset(0)
          }}
        >
          <option value="">{t('mail.filter.all')}</option>
          {statuses.map((s) => (
            <option key={s} value={s}>
              {t(statusNames[s])}
            </option>
          ))}
        </GovFormSelect>
      </div>
      <Loaded
        state={list}
        isEmpty={(data) => data.items.length === 0}
        empty={<p>{t('mail.empty')}</p>}
      >
        {(data) => (
        <>
          <div className="epom-table-wrap">
            <table className="epom-table">
              <caption>{t('mail.caption', { total: String(data.total) })}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('mail.when')}</th>
                  <th scope="col">{t('mail.to')}</th>
                  <th scope="col">{t('mail.subject')}</th>
                  <th scope="col">{t('mail.status')}</th>
                </tr>
              </thead>
              <tbody>
                {data.items.map((m) => (
                  <tr key={m.id}>
                    <td>{formatDateTime(m.sentAt ?? m.createdAt)}</td>
                    <td>{m.toName ? `${m.toName} <${m.to}>` : m.to}</td>
                    <th scope="row">{m.subject}</th>
                    <td>
                      {t(statusNames[m.status])}
                      {m.lastError ? ` — ${m.lastError}` : ''}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager offset={offset} pageSize={pageSize} total={data.total} onOffset={setOffset} />
        </>
        )}
      </Loaded>
    </>
  )
}
