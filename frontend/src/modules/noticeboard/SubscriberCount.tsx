import { useEffect, useState } from 'react'
import { api, unwrap } from '../../api/client'
import { useI18n } from '../../i18n/I18nProvider'

/** How many citizens receive the board by e-mail: a count, never the addresses. */
export function SubscriberCount({ slug }: { slug: string }) {
  const { t } = useI18n()
  const [count, setCount] = useState<number>()

  useEffect(() => {
    unwrap(api.GET('/api/v1/tenants/{tenant}/noticeboard/subscribers', { params: { path: { tenant: slug } } })).then(
      (s) => setCount(s.confirmed),
      () => setCount(undefined),
    )
  }, [slug])

  if (count === undefined) return null
  return (
    <p>
      <strong>{t('nb.subscribers', { count: String(count) })}</strong>
      <br />
      <span className="epom-muted">{t('nb.subscribersHint')}</span>
    </p>
  )
}
