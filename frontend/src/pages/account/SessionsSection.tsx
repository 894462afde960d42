import { useState } from 'react'
import { api, unwrap } from '../../api/client'
import { Button } from '../../components/Button'
import { ErrorMessage } from '../../components/ErrorMessage'
import { Loaded } from '../../components/Loaded'
import { Message } from '../../components/Message'
import { useI18n } from '../../i18n/I18nProvider'
import type { MessageKey } from '../../i18n/messages'
import { useApi } from '../../lib/useApi'
import type { components } from '../../api/schema'

type Method = components['schemas']['MySession']['method']
const methodNames: Record<Method, MessageKey> = {
  password: 'account.method.password',
  'password+totp': 'account.method.password+totp',
  'password+recovery-code': 'account.method.password+recovery-code',
  external: 'account.method.external',
}

/** "My sessions": where the user is signed in, with a way to sign any other device out. */
export function SessionsSection() {
  const { t, formatDateTime } = useI18n()
  const list = useApi(() => unwrap(api.GET('/api/v1/me/sessions')), [])
  const [notice, setNotice] = useState<string>()
  const [error, setError] = useState<unknown>()

  const act = async (run: () => Promise<string>) => {
    setError(undefined)
    setNotice(undefined)
    try {
      setNotice(await run())
      list.reload()
    } catch (failure) {
      setError(failure)
    }
  }

  const revoke = (id: string) =>
    act(async () => {
      await unwrap(api.DELETE('/api/v1/me/sessions/{sessionId}', { params: { path: { sessionId: id } } }))
      return t('account.revoked')
    })
  const revokeOthers = () =>
    act(async () => {
      const { revoked } = await unwrap(api.DELETE('/api/v1/me/sessions'))
      return t('account.revokedOthers', { n: String(revoked) })
    })

  return (
    <section aria-labelledby="sessions-heading" className="epom-section">
      <h2 id="sessions-heading">{t('account.sessions')}</h2>
      <div aria-live="polite">{notice && <Message color="success">{notice}</Message>}</div>
      {error !== undefined && <ErrorMessage error={error} />}
      <Loaded state={list}>
        {(data) => (
          <>
            <div className="epom-table-wrap">
              <table className="epom-table">
                <caption>{t('account.sessionsCaption')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('account.signedInAt')}</th>
                    <th scope="col">{t('account.lastSeen')}</th>
                    <th scope="col">{t('account.ip')}</th>
                    <th scope="col">{t('account.device')}</th>
                    <th scope="col">{t('account.method')}</th>
                    <th scope="col">
                      <span className="epom-visually-hidden">{t('account.revoke')}</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {data.items.map((s) => (
                    <tr key={s.id}>
                      <th scope="row">{formatDateTime(s.createdAt)}</th>
                      <td>{formatDateTime(s.lastSeenAt)}</td>
                      <td>{s.ip || '—'}</td>
                      <td className="epom-user-agent">{s.userAgent || '—'}</td>
                      <td>{t(methodNames[s.method])}</td>
                      <td>
                        {s.current ? (
                          <strong>{t('account.current')}</strong>
                        ) : (
                          <Button
                            type="outlined"
                            color="primary"
                            size="s"
                            aria-label={t('account.revokeLabel', { date: formatDateTime(s.createdAt) })}
                            onClick={() => revoke(s.id)}
                          >
                            {t('account.revoke')}
                          </Button>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {data.items.some((s) => !s.current) && (
              <p>
                <Button type="outlined" color="primary" onClick={revokeOthers}>
                  {t('account.revokeOthers')}
                </Button>
              </p>
            )}
          </>
        )}
      </Loaded>
    </section>
  )
}
