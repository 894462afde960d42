import { useState, type FormEvent } from 'react'
import { Link, useParams } from 'react-router'
import { api, isApiError, unwrap } from '../../api/client'
import { Button } from '../../components/Button'
import { ErrorMessage } from '../../components/ErrorMessage'
import { TextAreaField } from '../../components/FormField'
import { Loaded } from '../../components/Loaded'
import { Message } from '../../components/Message'
import { PageHeading } from '../../components/PageHeading'
import { useI18n } from '../../i18n/I18nProvider'
import { useApi } from '../../lib/useApi'
import { useTenant } from '../../tenant/TenantProvider'
import { EarlyTakeDownWarning, legalDateRows } from './LegalDates'
import { boardPath, canWrite, categoryKey, formatSize, publicBoardUrl, stateKey, type Notice, type NoticeRevision } from './labels'

type Step = 'submit' | 'approve' | 'publish'

/** One notice: its details, documents, the actions its state allows, and its revisions. */
export function NoticeDetailPage() {
  const { noticeId = '' } = useParams()
  const { slug } = useTenant()
  const { t } = useI18n()
  const path = { tenant: slug, noticeId }
  const notice = useApi(
    () => unwrap(api.GET('/api/v1/tenants/{tenant}/noticeboard/notices/{noticeId}', { params: { path } })),
    [slug, noticeId],
  )
  return (
    <Loaded state={notice}>
      {(n) => (
        <>
          <PageHeading>{n.title}</PageHeading>
          <p>
            <Link to={boardPath(slug)}>{t('nb.title')}</Link>
          </p>
          <Details notice={n} />
          {(n.state === 'posted' || n.state === 'archived') && (
            <p>
              <Link to={`${boardPath(slug)}/${n.id}/dolozka`}>{t('nbc.link')}</Link>
            </p>
          )}
          <Actions notice={n} onChange={notice.reload} />
          <Attachments notice={n} onChange={notice.reload} />
          <Revisions slug={slug} notice={n} />
        </>
      )}
    </Loaded>
  )
}

function Details({ notice: n }: { notice: Notice }) {
  const { t, formatDate, formatDateTime } = useI18n()
  const rows: [string, string | undefined][] = [
    [t('nb.col.state'), t(stateKey(n.state))],
    [t('nb.field.category'), t(categoryKey(n.category))],
    [t('nb.field.origin'), n.origin === 'own' ? t('nb.origin.own') : n.originName],
    [t('nb.field.referenceNumber'), n.referenceNumber || undefined],
    [t('nb.field.fileMark'), n.fileMark || undefined],
    [t('nb.col.posting'), n.postingAt && formatDateTime(n.postingAt)],
    [t('nb.col.until'), n.relevantUntil ? formatDateTime(n.relevantUntil) : t('nb.untilFurtherNotice')],
    [t('nb.postedAt'), n.postedAt && formatDateTime(n.postedAt)],
    [t('nb.takenDownAt'), n.takenDownAt && formatDateTime(n.takenDownAt)],
    [t('nb.takeDownReasonShown'), n.takeDownReason],
    [t('nb.approvedAt'), n.approvedAt && formatDateTime(n.approvedAt)],
    [t('nb.revision'), n.revision > 0 ? String(n.revision) : undefined],
    ...legalDateRows(n, { t, formatDate }),
  ]
  return (
    <section aria-labelledby="nb-details">
      <h2 id="nb-details">{t('nb.details')}</h2>
      <dl className="epom-dl">
        {rows
          .filter(([, v]) => v)
          .map(([k, v]) => (
            <div key={k}>
              <dt>{k}</dt>
              <dd>{v}</dd>
            </div>
          ))}
      </dl>
      {n.body && <p className="epom-pre">{n.body}</p>}
    </section>
  )
}

function Actions({ notice: n, onChange }: { notice: Notice; onChange: () => void }) {
  const i18n = useI18n() // i18n for the early take-down warning
  const { t } = i18n
  const { slug, membership } = useTenant()
  const [error, setError] = useState<unknown>()
  const [done, setDone] = useState(false)
  const [busy, setBusy] = useState(false)
  const [reason, setReason] = useState('')
  const [reasonError, setReasonError] = useState<string>()
  if (!canWrite(membership)) return null
  const path = { tenant: slug, noticeId: n.id }

  const run = async (call: () => Promise<unknown>) => {
    setBusy(true)
    setError(undefined)
    setDone(false)
    try {
      await call()
      setDone(true)
      onChange()
    } catch (e) {
      const fields = isApiError(e) ? e.fieldErrors() : {}
      if (fields.reason) setReasonError(fields.reason)
      else setError(e)
    } finally {
      setBusy(false)
    }
  }
  const step = (s: Step) =>
    run(() =>
      unwrap(
        s === 'submit'
          ? api.POST('/api/v1/tenants/{tenant}/noticeboard/notices/{noticeId}/submit', { params: { path } })
          : s === 'approve'
            ? api.POST('/api/v1/tenants/{tenant}/noticeboard/notices/{noticeId}/approve', { params: { path } })
            : api.POST('/api/v1/tenants/{tenant}/noticeboard/notices/{noticeId}/publish', { params: { path } }),
      ),
    )
  const takeDown = (event: FormEvent) => {
    event.preventDefault()
    setReasonError(undefined)
    void run(() =>
      unwrap(
        api.POST('/api/v1/tenants/{tenant}/noticeboard/notices/{noticeId}/take-down', {
          params: { path },
          body: { reason },
        }),
      ),
    )
  }

  return (
    <section aria-labelledby="nb-actions" className="epom-block">
      <h2 id="nb-actions" className="epom-visually-hidden">
        {t('nb.edit')}
      </h2>
      {done && <Message color="success">{t('nb.done')}</Message>}
      {error !== undefined && <ErrorMessage error={error} />}
      <p className="epom-actions">
        {n.state !== 'archived' && (
          <Link to={`${boardPath(slug)}/${n.id}/upravit`}>{t('nb.edit')}</Link>
        )}{' '}
        {n.state === 'draft' && (
          <>
            <Button type="outlined" color="primary" disabled={busy} onClick={() => step('submit')}>
              {t('nb.submit')}
            </Button>{' '}
            <Button type="solid" color="primary" disabled={busy} onClick={() => step('publish')}>
              {t('nb.publish')}
            </Button>
          </>
        )}
        {n.state === 'pending_approval' && (
          <Button type="solid" color="primary" disabled={busy} onClick={() => step('approve')}>
            {t('nb.approve')}
          </Button>
        )}{' '}
        {(n.state === 'posted' || n.state === 'archived') && <a href={publicBoardUrl(slug)}>{t('nb.publicLink')}</a>}
      </p>
      {n.state === 'draft' && <p className="epom-muted">{t('nb.publishHint')}</p>}
      {n.state === 'posted' && (
        <form className="epom-form" onSubmit={takeDown} noValidate>
          <EarlyTakeDownWarning notice={n} i18n={i18n} />
          <TextAreaField
            id="nb-reason"
            label={t('nb.takeDownReason')}
            value={reason}
            required
            rows={2}
            error={reasonError}
            onChange={(e) => setReason(e.target.value)}
          />
          <Button type="outlined" color="error" nativeType="submit" disabled={busy}>
            {t('nb.takeDownConfirm')}
          </Button>
        </form>
      )}
    </section>
  )
}

function downloadUrl(slug: string, noticeId: string, attachmentId: string) {
  return `/api/v1/tenants/${encodeURIComponent(slug)}/noticeboard/notices/${noticeId}/attachments/${attachmentId}`
}

function Attachments({ notice: n, onChange }: { notice: Notice; onChange: () => void }) {
  const { t } = useI18n()
  const { slug, membership } = useTenant()
  const [file, setFile] = useState<File>()
  const [fileError, setFileError] = useState<string>()
  const [error, setError] = useState<unknown>()
  const [busy, setBusy] = useState(false)
  const writable = canWrite(membership) && n.state !== 'archived'
  const removable = writable && n.revision === 0
  const path = { tenant: slug, noticeId: n.id }

  const upload = async (event: FormEvent) => {
    event.preventDefault()
    setFileError(undefined)
    setError(undefined)
    if (!file) {
      setFileError(t('nb.upload'))
      return
    }
    setBusy(true)
    try {
      await unwrap(
        api.POST('/api/v1/tenants/{tenant}/noticeboard/notices/{noticeId}/attachments', {
          params: { path },
          body: { file: '' },
          bodySerializer: () => {
            const form = new FormData()
            form.append('file', file)
            return form
          },
        }),
      )
      setFile(undefined)
      ;(event.target as HTMLFormElement).reset()
      onChange()
    } catch (e) {
      const fields = isApiError(e) ? e.fieldErrors() : {}
      if (fields.file) setFileError(fields.file)
      else setError(e)
    } finally {
      setBusy(false)
    }
  }
  const remove = async (id: string) => {
    setError(undefined)
    try {
      await unwrap(
        api.DELETE('/api/v1/tenants/{tenant}/noticeboard/notices/{noticeId}/attachments/{attachmentId}', {
          params: { path: { ...path, attachmentId: id } },
        }),
      )
      onChange()
    } catch (e) {
      setError(e)
    }
  }

  return (
    <section aria-labelledby="nb-attachments">
      <h2 id="nb-attachments">{t('nb.attachments')}</h2>
      {error !== undefined && <ErrorMessage error={error} />}
      {n.attachments.length === 0 ? (
        <p>{t('nb.noAttachments')}</p>
      ) : (
        <ul>
          {n.attachments.map((a) => (
            <li key={a.id}>
              <a href={downloadUrl(slug, n.id, a.id)} aria-label={t('nb.download', { name: a.name })}>
                {a.name}
              </a>{' '}
              <span className="epom-muted">
                ({formatSize(a.size)}, SHA-256 <code>{a.sha256.slice(0, 12)}…</code>)
              </span>{' '}
              {removable && (
                <Button type="outlined" color="error" size="s" onClick={() => remove(a.id)}>
                  {t('nb.remove', { name: a.name })}
                </Button>
              )}
            </li>
          ))}
        </ul>
      )}
      {writable && (
        <form className="epom-form" onSubmit={upload} noValidate>
          <div className="epom-field">
            <label htmlFor="nb-file">{t('nb.upload')}</label>
            <p id="nb-file-hint" className="epom-muted">
              {t('nb.uploadHint')}
            </p>
            <input
              id="nb-file"
              type="file"
              accept=".pdf,.docx,.xlsx,.odt,.ods,.png,.jpg,.jpeg"
              aria-describedby={fileError ? 'nb-file-hint nb-file-error' : 'nb-file-hint'}
              aria-invalid={fileError ? true : undefined}
              onChange={(e) => setFile(e.target.files?.[0])}
            />
            {fileError && (
              <p id="nb-file-error" className="epom-error" role="alert">
                {fileError}
              </p>
            )}
          </div>
          <Button type="outlined" color="primary" nativeType="submit" disabled={busy}>
            {busy ? t('nb.uploading') : t('nb.uploadButton')}
          </Button>
        </form>
      )}
    </section>
  )
}

function Revisions({ slug, notice: n }: { slug: string; notice: Notice }) {
  const { t, formatDateTime } = useI18n()
  const [shown, setShown] = useState<NoticeRevision>()
  const revs = useApi(
    () =>
      unwrap(
        api.GET('/api/v1/tenants/{tenant}/noticeboard/notices/{noticeId}/revisions', {
          params: { path: { tenant: slug, noticeId: n.id } },
        }),
      ),
    [slug, n.id, n.revision],
  )
  return (
    <section aria-labelledby="nb-revisions">
      <h2 id="nb-revisions">{t('nb.revisions')}</h2>
      <Loaded state={revs} isEmpty={(d) => d.items.length === 0} empty={<p>{t('nb.noRevisions')}</p>}>
        {(d) => (
          <div className="epom-table-wrap">
            <table className="epom-table">
              <caption>{t('nb.rev.caption')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('nb.rev.number')}</th>
                  <th scope="col">{t('nb.rev.when')}</th>
                  <th scope="col">{t('nb.col.title')}</th>
                  <th scope="col">{t('nb.rev.note')}</th>
                </tr>
              </thead>
              <tbody>
                {d.items.map((r) => (
                  <tr key={r.revision}>
                    <td>
                      <Button type="base" color="primary" size="s" onClick={() => setShown(r)}>
                        {t('nb.rev.show', { n: String(r.revision) })}
                      </Button>
                    </td>
                    <td>{formatDateTime(r.createdAt)}</td>
                    <th scope="row">{r.title}</th>
                    <td>{r.note}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Loaded>
      {shown && (
        <article aria-labelledby="nb-rev-shown" className="epom-block" tabIndex={-1} ref={(el) => el?.focus()}>
          <h3 id="nb-rev-shown">
            {t('nb.rev.number')} {shown.revision}: {shown.title}
          </h3>
          <p className="epom-pre">{shown.body}</p>
          <ul>
            {shown.attachments.map((a) => (
              <li key={a.id}>
                <a href={downloadUrl(slug, n.id, a.id)}>{a.name}</a>
              </li>
            ))}
          </ul>
        </article>
      )}
    </section>
  )
}
