import { useState } from 'react'
import { Link } from 'react-router'
import { api, unwrap } from '../../api/client'
import { Button } from '../../components/Button'
import { ErrorMessage } from '../../components/ErrorMessage'
import { Loaded } from '../../components/Loaded'
import { Message } from '../../components/Message'
import { PageHeading } from '../../components/PageHeading'
import { useI18n } from '../../i18n/I18nProvider'
import { useApi } from '../../lib/useApi'
import { useTenant } from '../../tenant/TenantProvider'
import { boardPath } from './labels'

/** Saves text as a file in the browser. */
function save(name: string, text: string) {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }))
  const a = document.createElement('a')
  a.href = url
  a.download = name
  document.body.append(a)
  a.click()
  a.remove()
  URL.revokeObjectURL(url)
}

/**
 * Důkaz vyvěšení (proof of posting): the board's daily snapshots, whether their hash chain is
 * intact, and each day's JSON to download exactly as it was hashed.
 */
export function ProofPage() {
  const { t, formatDate, formatDateTime } = useI18n()
  const { slug } = useTenant()
  const [error, setError] = useState<unknown>()
  const list = useApi(
    () => unwrap(api.GET('/api/v1/tenants/{tenant}/noticeboard/snapshots', { params: { path: { tenant: slug } } })),
    [slug],
  )
  const download = async (day: string) => {
    setError(undefined)
    try {
      const snap = await unwrap(
        api.GET('/api/v1/tenants/{tenant}/noticeboard/snapshots/{day}', { params: { path: { tenant: slug, day } } }),
      )
      save(`uredni-deska-${slug}-${day}.json`, snap.content)
    } catch (e) {
      setError(e)
    }
  }
  return (
    <>
      <PageHeading>{t('nbp.title')}</PageHeading>
      <p>
        <Link to={boardPath(slug)}>{t('nb.title')}</Link>
      </p>
      <p>{t('nbp.intro')}</p>
      {error !== undefined && <ErrorMessage error={error} />}
      <Loaded state={list}>
        {(d) => (
          <>
            {d.items.length > 0 &&
              (d.chainIntact ? (
                <Message color="success">{t('nbp.intact', { n: String(d.items.length) })}</Message>
              ) : (
                <Message color="error">
                  {t('nbp.broken', { day: d.brokenDay ? formatDate(d.brokenDay) : '?', problem: d.problem ?? '' })}
                </Message>
              ))}
            {d.items.length === 0 ? (
              <p>{t('nbp.empty')}</p>
            ) : (
              <div className="epom-table-wrap">
                <table className="epom-table">
                  <caption>{t('nbp.caption')}</caption>
                  <thead>
                    <tr>
                      <th scope="col">{t('nbp.col.day')}</th>
                      <th scope="col">{t('nbp.col.count')}</th>
                      <th scope="col">{t('nbp.col.takenAt')}</th>
                      <th scope="col">{t('nbp.col.hash')}</th>
                      <th scope="col">{t('nbp.col.download')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {d.items.map((s) => (
                      <tr key={s.day}>
                        <th scope="row">{formatDate(s.day)}</th>
                        <td>{s.noticeCount}</td>
                        <td>{formatDateTime(s.takenAt)}</td>
                        <td>
                          <code title={s.hash}>{s.hash.slice(0, 16)}…</code>
                        </td>
                        <td>
                          <Button type="base" color="primary" size="s" onClick={() => void download(s.day)}>
                            {t('nbp.download', { day: formatDate(s.day) })}
                          </Button>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </>
        )}
      </Loaded>
    </>
  )
}
