import { GovFormLabel, GovFormSelect } from '@gov-design-system-ce/react'
import { useState, type FormEvent } from 'react'
import { Link, useParams, useSearchParams } from 'react-router'
import { api, isApiError, unwrap, type SubscriptionRequest } from '../api/client'
import { Button } from '../components/Button'
import { ErrorMessage } from '../components/ErrorMessage'
import { TextAreaField, TextField } from '../components/FormField'
import { Loading } from '../components/Loading'
import { Message } from '../components/Message'
import { PageHeading } from '../components/PageHeading'
import { useI18n } from '../i18n/I18nProvider'
import { useApi } from '../lib/useApi'
import { useSession } from '../session/SessionProvider'
import { krajName } from './kraje'
import { OperatorNav } from './OperatorNav'

const statuses = ['pending', 'approved', 'rejected'] as const
type Status = (typeof statuses)[number]

/** The queue of online subscription requests of the kraj, with approval and rejection. */
export function OperatorRequestsPage() {
  const { t } = useI18n()
  const { kraj = '' } = useParams()
  const [params, setParams] = useSearchParams()
  // Pending first: that is the queue; "all" is an explicit choice.
  const raw = params.get('stav')
  const status: Status | undefined = raw === 'vse' ? undefined : (statuses.find((s) => s === raw) ?? 'pending')
  const [notice, setNotice] = useState<string>()
  const { data, error, loading, reload } = useApi(
    () =>
      unwrap(api.GET('/api/v1/operator/{kraj}/subscription-requests', { params: { path: { kraj }, query: { status } } })),
    [kraj, status],
  )

  return (
    <>
      <PageHeading>{t('operator.requestsTitle', { kraj: krajName(kraj) })}</PageHeading>
      <OperatorNav kraj={kraj} />
      <div className="epom-filter">
        <GovFormLabel identifier="request-status" size="m">
          {t('operator.requestStatus')}
        </GovFormLabel>
        <GovFormSelect
          identifier="request-status"
          size="m"
          value={status ?? 'vse'}
          onChange={(event) => {
            setNotice(undefined)
            setParams({ stav: event.target.value })
          }}
        >
          {statuses.map((s) => (
            <option key={s} value={s}>
              {t(`operator.request.${s}`)}
            </option>
          ))}
          <option value="vse">{t('operator.allStatuses')}</option>
        </GovFormSelect>
      </div>
      {notice && <Message color="success">{notice}</Message>}
      {error ? (
        <ErrorMessage error={error} onRetry={reload} />
      ) : !data ? (
        <Loading />
      ) : data.items.length === 0 ? (
        <p>{t('operator.noRequests')}</p>
      ) : (
        <ul className="epom-cards" aria-busy={loading}>
          {data.items.map((q) => (
            <RequestCard
              key={q.id}
              kraj={kraj}
              request={q}
              onDecided={(text) => {
                setNotice(text)
                reload()
              }}
            />
          ))}
        </ul>
      )}
    </>
  )
}

function RequestCard({
  kraj,
  request: q,
  onDecided,
}: {
  kraj: string
  request: SubscriptionRequest
  onDecided: (text: string) => void
}) {
  const { t, formatDateTime } = useI18n()
  const { expire } = useSession()
  const [rejecting, setRejecting] = useState(false)
  const [reason, setReason] = useState('')
  const [reasonError, setReasonError] = useState<string>()
  const [slug, setSlug] = useState('')
  const [slugError, setSlugError] = useState<string>()
  const [failure, setFailure] = useState<unknown>()
  const [busy, setBusy] = useState(false)
  const headingId = `request-${q.id}`

  const fail = (error: unknown) => {
    if (isApiError(error, 401)) expire()
    const byField = isApiError(error) ? error.fieldErrors() : {}
    if (byField.reason) setReasonError(byField.reason)
    else if (byField.slug) setSlugError(byField.slug)
    else setFailure(error)
  }

  const approve = async () => {
    setBusy(true)
    setFailure(undefined)
    setSlugError(undefined)
    try {
      await unwrap(
        api.POST('/api/v1/operator/{kraj}/subscription-requests/{requestId}/approve', {
          params: { path: { kraj, requestId: q.id } },
          body: slug.trim() ? { slug: slug.trim() } : {},
        }),
      )
      onDecided(t('operator.approved', { name: q.municipality, email: q.email }))
    } catch (error) {
      fail(error)
    } finally {
      setBusy(false)
    }
  }

  const reject = async (event: FormEvent) => {
    event.preventDefault()
    setReasonError(undefined)
    setFailure(undefined)
    if (!reason.trim()) {
      setReasonError(t('operator.rejectReasonRequired'))
      return
    }
    setBusy(true)
    try {
      await unwrap(
        api.POST('/api/v1/operator/{kraj}/subscription-requests/{requestId}/reject', {
          params: { path: { kraj, requestId: q.id } },
          body: { reason: reason.trim() },
        }),
      )
      onDecided(t('operator.rejected', { name: q.municipality }))
    } catch (error) {
      fail(error)
    } finally {
      setBusy(false)
    }
  }

  return (
    <li className="epom-card">
      <article aria-labelledby={headingId}>
        <h2 id={headingId}>{q.municipality}</h2>
        <dl className="epom-facts">
          <dt>{t('operator.request.status')}</dt>
          <dd>{t(`operator.request.${q.status}`)}</dd>
          <dt>{t('operator.request.contact')}</dt>
          <dd>
            {q.contactName}, <a href={`mailto:${q.email}`}>{q.email}</a>
            {q.phone && `, ${q.phone}`}
          </dd>
          <dt>IČO</dt>
          <dd>{q.ico}</dd>
          <dt>{t('operator.modules')}</dt>
          <dd>{q.modules.length ? q.modules.join(', ') : '—'}</dd>
          <dt>{t('operator.request.created')}</dt>
          <dd>{formatDateTime(q.createdAt)}</dd>
          {q.note && (
            <>
              <dt>{t('operator.request.note')}</dt>
              <dd>{q.note}</dd>
            </>
          )}
          {q.reason && (
            <>
              <dt>{t('operator.request.reason')}</dt>
              <dd>{q.reason}</dd>
            </>
          )}
          {q.tenantId && (
            <>
              <dt>{t('operator.request.tenant')}</dt>
              <dd>
                <Link to={`/kraj/${kraj}/obce/${q.tenantId}`}>{q.tenantSlug}</Link>
              </dd>
            </>
          )}
        </dl>
        {failure !== undefined && <ErrorMessage error={failure} />}
        {q.status === 'pending' &&
          (rejecting ? (
            <form className="epom-form" onSubmit={reject} noValidate>
              <TextAreaField
                id={`reason-${q.id}`}
                label={t('operator.rejectReason')}
                hint={t('operator.rejectReasonHint')}
                required
                rows={3}
                value={reason}
                error={reasonError}
                onChange={(event) => setReason(event.target.value)}
              />
              <div className="epom-actions">
                <Button type="solid" color="error" nativeType="submit" disabled={busy}>
                  {t('operator.rejectSubmit')} <span className="epom-visually-hidden">{q.municipality}</span>
                </Button>
                <Button type="outlined" color="primary" onClick={() => setRejecting(false)}>
                  {t('operator.cancel')}
                </Button>
              </div>
            </form>
          ) : (
            <div className="epom-form">
              <TextField
                id={`slug-${q.id}`}
                label={t('operator.slug')}
                hint={t('operator.slugHint')}
                value={slug}
                error={slugError}
                onChange={(event) => setSlug(event.target.value)}
              />
              <div className="epom-actions">
                <Button type="solid" color="primary" disabled={busy} onClick={approve}>
                  {t('operator.approve')} <span className="epom-visually-hidden">{q.municipality}</span>
                </Button>
                <Button type="outlined" color="error" disabled={busy} onClick={() => setRejecting(true)}>
                  {t('operator.reject')} <span className="epom-visually-hidden">{q.municipality}</span>
                </Button>
              </div>
            </div>
          ))}
      </article>
    </li>
  )
}
