import { useEffect, useState } from 'react'
import { api, unwrap } from '../../api/client'
import { ErrorMessage } from '../../components/ErrorMessage'
import { Message } from '../../components/Message'
import { useI18n } from '../../i18n/I18nProvider'
import { SubscriberCount } from './SubscriberCount'

/** The tenant admin's switch for the approval step. */
export function SettingsForm({ slug }: { slug: string }) {
  const { t } = useI18n()
  const [approval, setApproval] = useState<boolean>()
  const [saved, setSaved] = useState(false)
  const [error, setError] = useState<unknown>()

  useEffect(() => {
    unwrap(api.GET('/api/v1/tenants/{tenant}/noticeboard/settings', { params: { path: { tenant: slug } } })).then(
      (s) => setApproval(s.approvalRequired),
      setError,
    )
  }, [slug])

  const change = async (value: boolean) => {
    setSaved(false)
    setError(undefined)
    try {
      const s = await unwrap(
        api.PUT('/api/v1/tenants/{tenant}/noticeboard/settings', {
          params: { path: { tenant: slug } },
          body: { approvalRequired: value },
        }),
      )
      setApproval(s.approvalRequired)
      setSaved(true)
    } catch (e) {
      setError(e)
    }
  }

  return (
    <section aria-labelledby="nb-settings">
      <h2 id="nb-settings">{t('nb.settings')}</h2>
      {error !== undefined && <ErrorMessage error={error} />}
      {saved && <Message color="success">{t('nb.settingsSaved')}</Message>}
      <SubscriberCount slug={slug} />
      {approval !== undefined && (
        <p>
          <label>
            <input type="checkbox" checked={approval} onChange={(e) => change(e.target.checked)} />{' '}
            {t('nb.approvalRequired')}
          </label>
        </p>
      )}
    </section>
  )
}
