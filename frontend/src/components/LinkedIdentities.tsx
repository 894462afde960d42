import { useState } from 'react'
import { api, isApiError, unwrap, type LinkedIdentity } from '../api/client'
import { useI18n } from '../i18n/I18nProvider'
import { useApi } from '../lib/useApi'
import { Button } from './Button'
import { ErrorMessage } from './ErrorMessage'
import { Loaded } from './Loaded'
import { Message } from './Message'

/**
 * The account's linked external identities (NIA and others) with a way to unlink each. The
 * server refuses to unlink the only way into an account without a password; that is said in
 * plain words here.
 */
export function LinkedIdentities() {
  const { t, formatDateTime } = useI18n()
  const list = useApi(() => unwrap(api.GET('/api/v1/me/identities')), [])
  const [busy, setBusy] = useState('')
  const [outcome, setOutcome] = useState<{ done?: string; error?: unknown }>({})

  const unlink = async (identity: LinkedIdentity) => {
    setBusy(identity.provider)
    setOutcome({})
    try {
      await unwrap(api.DELETE('/api/v1/me/identities/{provider}', { params: { path: { provider: identity.provider } } }))
      setOutcome({ done: identity.providerName })
      list.reload()
    } catch (error) {
      setOutcome({ error })
    } finally {
      setBusy('')
    }
  }

  const lastMethod = isApiError(outcome.error, 409) && outcome.error.problem.type === '/problems/last-sign-in-method'
  return (
    <section aria-labelledby="linked-identities">
      <h2 id="linked-identities">{t('identities.title')}</h2>
      <div aria-live="polite">
        {outcome.done && <Message color="success">{t('identities.unlinked', { name: outcome.done })}</Message>}
        {lastMethod && <Message color="error">{t('identities.lastMethod')}</Message>}
        {outcome.error !== undefined && !lastMethod && <ErrorMessage error={outcome.error} />}
      </div>
      <Loaded state={list} isEmpty={(data) => data.items.length === 0} empty={<p>{t('identities.empty')}</p>}>
        {(data) => (
          <div className="epom-table-wrap">
            <table className="epom-table">
              <caption>{t('identities.caption')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('identities.provider')}</th>
                  <th scope="col">{t('identities.email')}</th>
                  <th scope="col">{t('identities.linkedAt')}</th>
                  <th scope="col">{t('identities.lastUsedAt')}</th>
                  <th scope="col">
                    <span className="epom-visually-hidden">{t('identities.actions')}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.items.map((identity) => (
                  <tr key={identity.provider}>
                    <th scope="row">{identity.providerName}</th>
                    <td>{identity.email}</td>
                    <td>{formatDateTime(identity.createdAt)}</td>
                    <td>{formatDateTime(identity.lastUsedAt)}</td>
                    <td>
                      <Button
                        type="outlined"
                        color="error"
                        size="s"
                        disabled={busy !== ''}
                        onClick={() => unlink(identity)}
                        aria-label={t('identities.unlinkLabel', { name: identity.providerName })}
                      >
                        {busy === identity.provider ? t('identities.unlinking') : t('identities.unlink')}
                      </Button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Loaded>
    </section>
  )
}
