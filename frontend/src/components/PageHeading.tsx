import { useEffect } from 'react'
import { useI18n } from '../i18n/I18nProvider'

/** The page's only h1; it also names the browser tab. */
export function PageHeading({ children }: { children: string }) {
  const { t } = useI18n()

  useEffect(() => {
    document.title = `${children} – ${t('app.name')}`
  }, [children, t])

  // tabIndex -1 lets the shell move focus here after a client-side navigation.
  return (
    <h1 className="epom-page-heading" tabIndex={-1}>
      {children}
    </h1>
  )
}
