import { NavLink } from 'react-router'
import { useI18n } from '../i18n/I18nProvider'

/** The console's two lists: municipalities and requests. */
export function OperatorNav({ kraj }: { kraj: string }) {
  const { t } = useI18n()
  return (
    <nav aria-label={t('operator.sections')} className="epom-subnav">
      <ul className="epom-nav__list">
        <li>
          <NavLink to={`/kraj/${kraj}`} end className="epom-nav__link">
            {t('operator.municipalities')}
          </NavLink>
        </li>
        <li>
          <NavLink to={`/kraj/${kraj}/zadosti`} className="epom-nav__link">
            {t('operator.requests')}
          </NavLink>
        </li>
      </ul>
    </nav>
  )
}
