import { useState, type FormEvent } from 'react'
import { Link, useParams } from 'react-router'
import { api, isApiError, unwrap, type ModuleInfo, type OperatorTenant } from '../api/client'
import { Button } from '../components/Button'
import { ErrorMessage } from '../components/ErrorMessage'
import { TextAreaField } from '../components/FormField'
import { Loading } from '../components/Loading'
import { Message } from '../components/Message'
import { PageHeading } from '../components/PageHeading'
import { useI18n } from '../i18n/I18nProvider'
import { useApi } from '../lib/useApi'
import { useSession } from '../session/SessionProvider'
import { ModuleChecklist } from './ModuleChecklist'
import { OperatorNav } from './OperatorNav'

/** One tenant of the kraj: its usage, its modules, suspension. No agenda data. */
export function OperatorTenantPage() {
  const { t } = useI18n()
  const { kraj = '', tenantId = '' } = useParams()
  const { data, error, reload } = useApi(
    () => unwrap(api.GET('/api/v1/operator/{kraj}/tenants/{tenantId}', { params: { path: { kraj, tenantId } } })),
    [kraj, tenantId],
  )
  const modules = useApi(() => unwrap(api.GET('/api/v1/modules')), [])
  const [tenant, setTenant] = useState<OperatorTenant>()
  const shown = tenant ?? data

  return (
    <>
      <PageHeading>{shown ? shown.name : t('operator.tenantTitle')}</PageHeading>
      <OperatorNav kraj={kraj} />
      <p>
        <Link to={`/kraj/${kraj}`}>{t('operator.back')}</Link>
      </p>
      {error ? (
        <ErrorMessage error={error} onRetry={reload} />
      ) : !shown || !modules.data ? (
        <Loading />
      ) : (
        <>
          <Usage tenant={shown} />
          <Modules kraj={kraj} tenant={shown} modules={modules.data.items} onSaved={setTenant} />
          <Status kraj={kraj} tenant={shown} onSaved={setTenant} />
        </>
      )}
    </>
  )
}

function Usage({ tenant }: { tenant: OperatorTenant }) {
  const { t, formatDateTime, formatDate } = useI18n()
  return (
    <section aria-labelledby="usage-title">
      <h2 id="usage-title">{t('operator.usage')}</h2>
      <dl className="epom-facts">
        <dt>{t('operator.status')}</dt>
        <dd>{t(`status.${tenant.status}`)}</dd>
        <dt>{t('operator.address')}</dt>
        <dd>
          <a href={`/o/${tenant.slug}`}>/o/{tenant.slug}</a>
        </dd>
        <dt>{t('operator.created')}</dt>
        <dd>{formatDate(tenant.createdAt)}</dd>
        <dt>{t('operator.staff')}</dt>
        <dd>{tenant.staff}</dd>
        <dt>{t('operator.lastSignIn')}</dt>
        <dd>{tenant.lastSignInAt ? formatDateTime(tenant.lastSignInAt) : t('operator.never')}</dd>
      </dl>
    </section>
  )
}

function Modules({
  kraj,
  tenant,
  modules,
  onSaved,
}: {
  kraj: string
  tenant: OperatorTenant
  modules: ModuleInfo[]
  onSaved: (t: OperatorTenant) => void
}) {
  const { t } = useI18n()
  const { expire } = useSession()
  const [selected, setSelected] = useState(tenant.modules)
  const [outcome, setOutcome] = useState<{ ok: true } | { ok: false; error: unknown }>()
  const [saving, setSaving] = useState(false)

  const save = async (event: FormEvent) => {
    event.preventDefault()
    setSaving(true)
    setOutcome(undefined)
    try {
      const saved = await unwrap(
        api.PUT('/api/v1/operator/{kraj}/tenants/{tenantId}/modules', {
          params: { path: { kraj, tenantId: tenant.id } },
          body: { modules: selected },
        }),
      )
      onSaved(saved)
      setOutcome({ ok: true })
    } catch (error) {
      if (isApiError(error, 401)) expire()
      setOutcome({ ok: false, error })
    } finally {
      setSaving(false)
    }
  }

  return (
    <section aria-labelledby="modules-title">
      <h2 id="modules-title">{t('operator.modulesTitle')}</h2>
      {outcome?.ok === true && <Message color="success">{t('operator.modulesSaved')}</Message>}
      {outcome?.ok === false && <ErrorMessage error={outcome.error} />}
      <form className="epom-form" onSubmit={save} noValidate>
        <ModuleChecklist id="tenant-modules" legend={t('operator.modules')} modules={modules} selected={selected} onChange={setSelected} />
        <Button type="solid" color="primary" nativeType="submit" disabled={saving}>
          {t('operator.modulesSave')}
        </Button>
      </form>
    </section>
  )
}

function Status({ kraj, tenant, onSaved }: { kraj: string; tenant: OperatorTenant; onSaved: (t: OperatorTenant) => void }) {
  const { t } = useI18n()
  const { expire } = useSession()
  const [reason, setReason] = useState('')
  const [reasonError, setReasonError] = useState<string>()
  const [outcome, setOutcome] = useState<{ ok: true; text: string } | { ok: false; error: unknown }>()
  const suspend = tenant.status === 'active'
  if (tenant.status !== 'active' && tenant.status !== 'suspended') return null

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setOutcome(undefined)
    setReasonError(undefined)
    if (suspend && !reason.trim()) {
      setReasonError(t('operator.reasonRequired'))
      return
    }
    try {
      const saved = await unwrap(
        api.PUT('/api/v1/operator/{kraj}/tenants/{tenantId}/status', {
          params: { path: { kraj, tenantId: tenant.id } },
          body: { status: suspend ? 'suspended' : 'active', reason: reason.trim() || undefined },
        }),
      )
      onSaved(saved)
      setReason('')
      setOutcome({ ok: true, text: t('platform.changed', { name: saved.name, status: t(`status.${saved.status}`) }) })
    } catch (error) {
      if (isApiError(error, 401)) expire()
      const byField = isApiError(error) ? error.fieldErrors() : {}
      if (byField.reason) setReasonError(byField.reason)
      else setOutcome({ ok: false, error })
    }
  }

  return (
    <section aria-labelledby="status-title">
      <h2 id="status-title">{t(suspend ? 'operator.suspendTitle' : 'operator.reactivateTitle')}</h2>
      {outcome?.ok === true && <Message color="success">{outcome.text}</Message>}
      {outcome?.ok === false && <ErrorMessage error={outcome.error} />}
      <form className="epom-form" onSubmit={submit} noValidate>
        <TextAreaField
          id="status-reason"
          label={t(suspend ? 'operator.suspendReason' : 'operator.reactivateReason')}
          required={suspend}
          rows={3}
          value={reason}
          error={reasonError}
          onChange={(event) => setReason(event.target.value)}
        />
        <Button type="solid" color={suspend ? 'error' : 'primary'} nativeType="submit">
          {t(suspend ? 'operator.suspend' : 'operator.reactivate')}
        </Button>
      </form>
    </section>
  )
}
