import { useI18n } from '../i18n/I18nProvider'

export function AppFooter() {
  const { t } = useI18n()
  return (
    <footer className="epom-footer">
      <p>
        <strong>{t('app.name')}</strong> – {t('app.tagline')}
      </p>
      <p className="epom-footer__small">{t('app.footerLicense')}</p>
    </footer>
  )
}
