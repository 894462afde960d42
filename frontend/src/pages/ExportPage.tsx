import { useEffect, useState } from 'react'
import { api, unwrap } from '../api/client'
import { Button } from '../components/Button'
import { ErrorMessage } from '../components/ErrorMessage'
import { Loaded } from '../components/Loaded'
import { Message } from '../components/Message'
import { PageHeading } from '../components/PageHeading'
import { useI18n } from '../i18n/I18nProvider'
import type { MessageKey } from '../i18n/messages'
import { useApi } from '../lib/useApi'
import { useTenant } from '../tenant/TenantProvider'

type Status = 'queued' | 'running' | 'done' | 'failed' | 'expired'
const statusNames: Record<Status, MessageKey> = {
  queued: 'export.status.queued',
  running: 'export.status.running',
  done: 'export.status.done',
  failed: 'export.status.failed',
  expired: 'export.status.expired',
}

function formatSize(bytes: number, lang: string): string {
  const units = ['B', 'kB', 'MB', 'GB']
  let value = bytes
  let unit = 0
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000
    unit++
  }
  return `${new Intl.NumberFormat(lang === 'en' ? 'en-GB' : 'cs-CZ', { maximumFractionDigits: 1 }).format(value)} ${units[unit]}`
}

// All of the municipality's data in one archive: for a municipality that leaves epom, or that
// wants its own copy. The export runs in the background; the requester gets the link by e-mail.
export function ExportPage() {
  const { t, lang, formatDateTime } = useI18n()
  const { slug } = useTenant()
  const [starting, setStarting] = useState(false)
  const [startError, setStartError] = useState<unknown>()
  const [started, setStarted] = useState(false)
  const list = useApi(
    () => unwrap(api.GET('/api/v1/tenants/{tenant}/exports', { params: { path: { tenant: slug } } })),
    [slug],
  )
  const busy = list.data?.items.some((x) => x.status === 'queued' || x.status === 'running') ?? false

  // While an export is queued or running, look again every few seconds.
  useEffect(() => {
    if (!busy) return
    const timer = setTimeout(list.reload, 3000)
    return () => clearTimeout(timer)
  }, [busy, list.data, list.reload])

  const start = async () => {
    setStarting(true)
    setStartError(undefined)
    try {
      await unwrap(api.POST('/api/v1/tenants/{tenant}/exports', { params: { path: { tenant: slug } } }))
      setStarted(true)
      list.reload()
    } catch (err) {
      setStartError(err)
    } finally {
      setStarting(false)
    }
  }

  return (
    <>
      <PageHeading>{t('export.title')}</PageHeading>
      <p>{t('export.intro')}</p>
      {started && <Message color="success">{t('export.started')}</Message>}
      {startError !== undefined && <ErrorMessage error={startError} />}
      <p>
        <Button type="solid" color="primary" size="m" disabled={starting || busy} onClick={start}>
          {t('export.start')}
        </Button>
      </p>
      <Loaded state={list} isEmpty={(data) => data.items.length === 0} empty={<p>{t('export.empty')}</p>}>
        {(data) => (
        <div className="epom-table-wrap">
          <table className="epom-table">
            <caption>{t('export.caption')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('export.requested')}</th>
                <th scope="col">{t('export.status')}</th>
                <th scope="col">{t('export.size')}</th>
                <th scope="col">{t('export.download')}</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((x) => (
                <tr key={x.id}>
                  <th scope="row">{formatDateTime(x.requestedAt)}</th>
                  <td>
                    {t(statusNames[x.status])}
                    {x.error ? ` — ${x.error}` : ''}
                  </td>
                  <td>{x.size !== undefined ? formatSize(x.size, lang) : '—'}</td>
                  <td>
                    {x.download ? (
                      <>
                        <a href={x.download} download>
                          {t('export.downloadLink')}
                        </a>
                        {x.expiresAt ? ` (${t('export.until', { date: formatDateTime(x.expiresAt) })})` : ''}
                        {x.sha256 ? (
                          <span className="epom-hash">
                            SHA-256: <code>{x.sha256}</code>
                          </span>
                        ) : null}
                      </>
                    ) : (
                      '—'
                    )}
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
