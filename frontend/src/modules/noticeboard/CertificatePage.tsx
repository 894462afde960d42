import { GovMessage } from '@gov-design-system-ce/react'
import { Link, useParams } from 'react-router'
import { api, isApiError, unwrap } from '../../api/client'
import type { components } from '../../api/schema'
import { Button } from '../../components/Button'
import { Loaded } from '../../components/Loaded'
import { Message } from '../../components/Message'
import { PageHeading } from '../../components/PageHeading'
import { useI18n } from '../../i18n/I18nProvider'
import { useApi } from '../../lib/useApi'
import { useTenant } from '../../tenant/TenantProvider'
import { boardPath, categoryKey, formatSize } from './labels'

type PostingCertificate = components['schemas']['PostingCertificate']

/**
 * Doložka o vyvěšení a sejmutí: the print-ready confirmation a clerk files with a document
 * delivered by public notice (§ 25 správního řádu). The API computes every date; the page only
 * lays them out for A4 (the print rules in app.css hide the app around it).
 */
export function CertificatePage() {
  const { noticeId = '' } = useParams()
  const { slug } = useTenant()
  const { t } = useI18n()
  const cert = useApi(
    () =>
      unwrap(
        api.GET('/api/v1/tenants/{tenant}/noticeboard/notices/{noticeId}/certificate', {
          params: { path: { tenant: slug, noticeId } },
        }),
      ),
    [slug, noticeId],
  )
  const back = (
    <p className="epom-no-print">
      <Link to={`${boardPath(slug)}/${noticeId}`}>{t('nbc.back')}</Link>
    </p>
  )
  if (isApiError(cert.error, 409)) {
    return (
      <>
        <PageHeading>{t('nbc.title')}</PageHeading>
        {back}
        <Message color="error">
          <p>{t('nbc.notPosted')}</p>
        </Message>
      </>
    )
  }
  return (
    <>
      {back}
      <Loaded state={cert}>{(c) => <Certificate cert={c} />}</Loaded>
    </>
  )
}

function Certificate({ cert: c }: { cert: PostingCertificate }) {
  const { t, formatDate, formatDateTime } = useI18n()
  const ev = c.evidence
  const identification: [string, string | undefined][] = [
    [t('nb.field.title'), c.title],
    [t('nb.field.referenceNumber'), c.referenceNumber || undefined],
    [t('nb.field.fileMark'), c.fileMark || undefined],
    [t('nb.field.category'), t(categoryKey(c.category))],
    [t('nb.field.origin'), c.origin === 'own' ? c.municipality.name : c.originName],
    [t('nbc.revisions'), String(c.revisionCount)],
  ]
  const delivered = formatDate(c.deliveredOn)
  return (
    <article className="epom-certificate">
      <p className="epom-certificate__issuer">
        <strong>{c.municipality.name}</strong>
        {c.municipality.ico && <>, {t('nbc.ico', { ico: c.municipality.ico })}</>}
      </p>
      <PageHeading>{t('nbc.title')}</PageHeading>

      <section aria-labelledby="nbc-document">
        <h2 id="nbc-document">{t('nbc.document')}</h2>
        <dl className="epom-dl">
          {identification
            .filter(([, v]) => v)
            .map(([k, v]) => (
              <div key={k}>
                <dt>{k}</dt>
                <dd>{v}</dd>
              </div>
            ))}
        </dl>
      </section>

      <table className="epom-table epom-certificate__dates">
        <caption>{t('nbc.caption')}</caption>
        <tbody>
          <tr>
            <th scope="row">{t('nbc.postedAt')}</th>
            <td>{formatDateTime(c.postedAt)}</td>
          </tr>
          <tr>
            <th scope="row">{t('nbc.takenDownAt')}</th>
            <td>{c.takenDownAt ? formatDateTime(c.takenDownAt) : t('nbc.stillHangs')}</td>
          </tr>
          {!c.takenDownAt && (
            <tr>
              <th scope="row">{t('nbc.plannedUntil')}</th>
              <td>{c.relevantUntil ? formatDateTime(c.relevantUntil) : t('nb.untilFurtherNotice')}</td>
            </tr>
          )}
          {c.takeDownReason && (
            <tr>
              <th scope="row">{t('nbc.reason')}</th>
              <td>{c.takeDownReason}</td>
            </tr>
          )}
        </tbody>
      </table>

      <p>{t('nbc.electronic')}</p>
      <p>
        <strong>
          {c.deliveredOnRestDay
            ? t('nbc.deliveredRestDay', { date: delivered, day: c.deliveredOnRestDay })
            : t('nbc.delivered', { date: delivered })}
        </strong>{' '}
        {t('nbc.earliestTakeDown', { date: formatDate(c.earliestTakeDownOn) })}
      </p>

      <section aria-labelledby="nbc-evidence">
        <h2 id="nbc-evidence">{t('nbc.evidence')}</h2>
        {ev.days > 0 && ev.firstDay && ev.lastDay ? (
          <>
            <p>{t('nbc.evidenceDays', { first: formatDate(ev.firstDay), last: formatDate(ev.lastDay), n: ev.days })}</p>
            {ev.latestHash && (
              <p>
                {t('nbc.evidenceHash')} <code className="epom-certificate__hash">{ev.latestHash}</code>
              </p>
            )}
          </>
        ) : (
          <p>{t('nbc.evidenceNone')}</p>
        )}
        {!ev.chainIntact && (
          <GovMessage color="warning" type="subtle" className="epom-block">
            {t('nbc.chainBroken')}
          </GovMessage>
        )}
      </section>

      <section aria-labelledby="nbc-attachments">
        <h2 id="nbc-attachments">{t('nb.attachments')}</h2>
        {c.attachments.length === 0 ? (
          <p>{t('nbc.noAttachments')}</p>
        ) : (
          <table className="epom-table">
            <caption>{t('nbc.attachmentsCaption')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('nbc.col.name')}</th>
                <th scope="col">{t('nbc.col.size')}</th>
                <th scope="col">{t('nbc.col.sha256')}</th>
              </tr>
            </thead>
            <tbody>
              {c.attachments.map((a) => (
                <tr key={a.sha256 + a.name}>
                  <th scope="row">{a.name}</th>
                  <td>{formatSize(a.size)}</td>
                  <td>
                    <code className="epom-certificate__hash">{a.sha256}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <p>{t('nbc.issuedAt', { date: formatDateTime(c.issuedAt) })}</p>
      <dl className="epom-certificate__sign">
        {[t('nbc.postedBy'), t('nbc.takenDownBy'), t('nbc.signature')].map((label) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd className="epom-certificate__line" />
          </div>
        ))}
      </dl>

      <p className="epom-no-print">
        <Button type="solid" color="primary" onClick={() => window.print()}>
          {t('nbc.print')}
        </Button>
      </p>
    </article>
  )
}
