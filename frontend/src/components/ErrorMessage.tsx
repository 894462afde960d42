import { isApiError } from '../api/client'
import { useI18n } from '../i18n/I18nProvider'
import { Button } from './Button'
import { Message } from './Message'

/** Explains a failed API call; an error without a problem document means the server was not reached. */
export function ErrorMessage({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useI18n()
  const problem = isApiError(error) ? error.problem : undefined

  return (
    <Message color="error">
      <p className="epom-message-title">{problem?.title ?? t('common.error')}</p>
      {problem ? problem.detail && <p>{problem.detail}</p> : <p>{t('common.networkError')}</p>}
      {problem?.requestId && <p className="epom-muted">{t('common.requestId', { id: problem.requestId })}</p>}
      {onRetry && (
        <p>
          <Button type="outlined" color="primary" size="s" onClick={onRetry}>
            {t('common.retry')}
          </Button>
        </p>
      )}
    </Message>
  )
}
