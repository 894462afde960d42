import { useI18n } from '../i18n/I18nProvider'
import { Button } from './Button'

/** Offers the other language, named in that language. */
export function LanguageSwitch() {
  const { lang, setLang, t } = useI18n()
  const other = lang === 'cs' ? 'en' : 'cs'
  return (
    <Button type="base" color="primary" lang={other} onClick={() => setLang(other)}>
      {t('lang.switchTo')}
    </Button>
  )
}
