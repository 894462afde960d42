import { GovFormLabel, GovFormSelect } from '@gov-design-system-ce/react'
import { useState } from 'react'
import { Link, useSearchParams } from 'react-router'
import { api, isApiError, unwrap, type Tenant, type TenantStatus } from '../api/client'
import { Button } from '../components/Button'
import { ErrorMessage } from '../components/ErrorMessage'
import { Loading } from '../components/Loading'
import { Message } from '../components/Message'
import { PageHeading } from '../components/PageHeading'
import { useI18n } from '../i18n/I18nProvider'
import { useApi } from '../lib/useApi'
import { useSession } from '../session/SessionProvider'

const pageSize = 20
const statuses: TenantStatus[] = ['pending', 'active', 'suspended', 'closed']

function parseStatus(value: string | null): TenantStatus | undefined {
  return statuses.find((status) => status === value)
}

/** The status a platform admin can move a tenant to from its current one, if any. */
function targetStatus(status: TenantStatus): TenantStatus | undefined {
  if (status === 'active') return 'suspended'
  if (status === 'pending' || status === 'suspended') return 'active'
  return undefined // closed is final
}

export function PlatformPage() {
  const { t } = useI18n()
  const { expire } = useSession()
  // Filter and page live in the URL, so Back and bookmarks keep them.
  const [params, setParams] = useSearchParams()
  const status = parseStatus(params.get('stav'))
  const page = Math.max(1, Number(params.get('strana')) || 1)
  const offset = (page - 1) * pageSize
  const [changing, setChanging] = useState<string>()
  const [notice, setNotice] = useState<{ ok: true; text: string } | { ok: false; error: unknown }>()

  const { data, error, loading, reload } = useApi(
    () => unwrap(api.GET('/api/v1/platform/tenants', { params: { query: { status, limit: pageSize, offset } } })),
    [status, offset],
  )

  const show = (filter: TenantStatus | undefined, page: number) => {
    setNotice(undefined) // it was about rows that are no longer shown
    const query: Record<string, string> = {}
    if (filter) query.stav = filter
    if (page > 1) query.strana = String(page)
    setParams(query)
  }

  const changeStatus = async (tenant: Tenant, to: TenantStatus) => {
    setChanging(tenant.id)
    setNotice(undefined)
    try {
      const updated = await unwrap(
        api.PATCH('/api/v1/platform/tenants/{tenantId}', {
          params: { path: { tenantId: tenant.id } },
          body: { status: to },
        }),
      )
      setNotice({
        ok: true,
        text: t('platform.changed', { name: updated.name, status: t(`status.${updated.status}`) }),
      })
      reload()
    } catch (failure) {
      if (isApiError(failure, 401)) expire()
      setNotice({ ok: false, error: failure })
    } finally {
      setChanging(undefined)
    }
  }

  return (
    <>
      <PageHeading>{t('platform.title')}</PageHeading>
      <div className="epom-filter">
        <GovFormLabel identifier="status-filter" size="m">
          {t('platform.statusFilter')}
        </GovFormLabel>
        <GovFormSelect
          identifier="status-filter"
          size="m"
          value={status ?? ''}
          onChange={(event) => show(parseStatus(event.target.value), 1)}
        >
          <option value="">{t('platform.allStatuses')}</option>
          {statuses.map((s) => (
            <option key={s} value={s}>
              {t(`status.${s}`)}
            </option>
          ))}
        </GovFormSelect>
      </div>

      {notice?.ok === true && <Message color="success">{notice.text}</Message>}
      {notice?.ok === false && <ErrorMessage error={notice.error} />}

      {error ? (
        <ErrorMessage error={error} onRetry={reload} />
      ) : !data ? (
        <Loading />
      ) : data.items.length === 0 ? (
        <p>{t('platform.empty')}</p>
      ) : (
        <>
          <div className="epom-table-wrap">
            <table className="epom-table" aria-busy={loading}>
              <caption>{t('platform.caption')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('platform.name')}</th>
                  <th scope="col">{t('platform.slug')}</th>
                  <th scope="col">{t('platform.status')}</th>
                  <th scope="col">{t('platform.kraj')}</th>
                  <th scope="col">{t('platform.createdAt')}</th>
                  <th scope="col">{t('platform.actions')}</th>
                </tr>
              </thead>
              <tbody>
                {data.items.map((tenant) => (
                  <TenantRow
                    key={tenant.id}
                    tenant={tenant}
                    busy={changing === tenant.id}
                    onChange={(to) => changeStatus(tenant, to)}
                  />
                ))}
              </tbody>
            </table>
          </div>
          <Pager page={page} count={data.items.length} total={data.total} onPage={(p) => show(status, p)} />
        </>
      )}
    </>
  )
}

function TenantRow({
  tenant,
  busy,
  onChange,
}: {
  tenant: Tenant
  busy: boolean
  onChange: (to: TenantStatus) => void
}) {
  const { t, formatDate } = useI18n()
  const to = targetStatus(tenant.status)
  return (
    <tr>
      <th scope="row">{tenant.name}</th>
      <td>
        <Link to={`/t/${tenant.slug}`}>{tenant.slug}</Link>
      </td>
      <td>{t(`status.${tenant.status}`)}</td>
      <td>{tenant.krajNuts}</td>
      <td>{formatDate(tenant.createdAt)}</td>
      <td>
        {to && (
          <Button
            type="outlined"
            color={to === 'suspended' ? 'error' : 'primary'}
            size="s"
            disabled={busy}
            onClick={() => onChange(to)}
          >
            {t(to === 'suspended' ? 'platform.suspend' : 'platform.activate')}{' '}
            {/* The row's name makes each button's accessible name unique. */}
            <span className="epom-visually-hidden">{tenant.name}</span>
          </Button>
        )}
      </td>
    </tr>
  )
}

function Pager({
  page,
  count,
  total,
  onPage,
}: {
  page: number
  count: number
  total: number
  onPage: (page: number) => void
}) {
  const { t } = useI18n()
  const offset = (page - 1) * pageSize
  return (
    <nav className="epom-pager" aria-label={t('platform.paging')}>
      <p>{t('platform.range', { from: offset + 1, to: offset + count, total })}</p>
      <Button type="outlined" color="primary" size="s" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        {t('platform.prev')}
      </Button>
      <Button
        type="outlined"
        color="primary"
        size="s"
        disabled={offset + count >= total}
        onClick={() => onPage(page + 1)}
      >
        {t('platform.next')}
      </Button>
    </nav>
  )
}
