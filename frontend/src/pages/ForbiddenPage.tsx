import { PageHeading } from '../components/PageHeading'
import { useI18n } from '../i18n/I18nProvider'

export function ForbiddenPage() {
  const { t } = useI18n()
  return (
    <>
      <PageHeading>{t('forbidden.title')}</PageHeading>
      <p>{t('forbidden.text')}</p>
    </>
  )
}
