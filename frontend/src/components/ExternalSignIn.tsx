import { GovButton } from '@gov-design-system-ce/react'
import { useEffect, useState } from 'react'
import { api, unwrap, type AuthProvider } from '../api/client'
import { useI18n } from '../i18n/I18nProvider'

/**
 * One button per external identity provider the deployment offers (NIA – Identita občana, a
 * municipality's own IdP). The buttons are plain links: the sign-in leaves the app for the
 * provider and comes back through the server, which then sends the browser to `next`.
 */
export function ExternalSignIn({ next }: { next: string }) {
  const { t } = useI18n()
  const [providers, setProviders] = useState<AuthProvider[]>([])

  useEffect(() => {
    let current = true
    // Without the list the page still offers the password form, so a failure only hides the buttons.
    unwrap(api.GET('/api/v1/auth/providers')).then(
      (data) => current && setProviders(data.items),
      () => undefined,
    )
    return () => {
      current = false
    }
  }, [])

  if (providers.length === 0) return null
  // `next` is a path inside the app router ("/t/liberec"); the server accepts /app/… only.
  const target = `/app${next.startsWith('/') ? next : '/'}`
  return (
    <section className="epom-block" aria-labelledby="external-sign-in">
      <h2 id="external-sign-in">{t('externalSignIn.heading')}</h2>
      <ul className="epom-plain-list">
        {providers.map((p) => (
          <li key={p.id}>
            <GovButton type="outlined" color="primary" asChild>
              <a href={`${p.startUrl}?next=${encodeURIComponent(target)}`}>
                {t('externalSignIn.button', { name: p.name })}
              </a>
            </GovButton>
          </li>
        ))}
      </ul>
    </section>
  )
}
