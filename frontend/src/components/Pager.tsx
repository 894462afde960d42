import { useI18n } from '../i18n/I18nProvider'
import { Button } from './Button'

/** Previous/next buttons of an offset-paged list: the same markup and labels on every list page. */
export function Pager({
  offset,
  pageSize,
  total,
  onOffset,
}: {
  offset: number
  pageSize: number
  total: number
  onOffset: (offset: number) => void
}) {
  const { t } = useI18n()
  return (
    <nav className="epom-pager" aria-label={t('pager.label')}>
      <Button
        type="outlined"
        color="primary"
        size="s"
        disabled={offset === 0}
        onClick={() => onOffset(Math.max(0, offset - pageSize))}
      >
        {t('pager.previous')}
      </Button>
      <Button
        type="outlined"
        color="primary"
        size="s"
        disabled={offset + pageSize >= total}
        onClick={() => onOffset(offset + pageSize)}
      >
        {t('pager.next')}
      </Button>
    </nav>
  )
}
