import { useEffect, useRef, useState, type ChangeEvent, type FormEvent } from 'react'
import { api, isApiError, unwrap, type TenantSettings, type TenantSettingsInput } from '../api/client'
import { Button } from '../components/Button'
import { ErrorMessage } from '../components/ErrorMessage'
import { TextAreaField, TextField } from '../components/FormField'
import { Loading } from '../components/Loading'
import { Message } from '../components/Message'
import { PageHeading } from '../components/PageHeading'
import { useI18n } from '../i18n/I18nProvider'
import { useApi } from '../lib/useApi'
import { useSession } from '../session/SessionProvider'
import { useTenant } from '../tenant/TenantProvider'
import { focusFirstInvalid } from '../components/focusInvalid'

export function SettingsPage() {
  const { t } = useI18n()
  const { slug } = useTenant()
  const { data, error, reload } = useApi(
    () => unwrap(api.GET('/api/v1/tenants/{tenant}/settings', { params: { path: { tenant: slug } } })),
    [slug],
  )

  return (
    <>
      <PageHeading>{t('settings.title')}</PageHeading>
      <p>{t('settings.intro')}</p>
      {error ? (
        <ErrorMessage error={error} onRetry={reload} />
      ) : data ? (
        <SettingsForm slug={slug} settings={data} />
      ) : (
        <Loading />
      )}
    </>
  )
}

const fieldNames = ['displayName', 'contactEmail', 'contactPhone', 'website', 'address', 'embedOrigins'] as const
type FieldName = (typeof fieldNames)[number]
type Values = Record<FieldName, string>

function toValues(settings: TenantSettings): Values {
  return {
    displayName: settings.displayName,
    contactEmail: settings.contactEmail ?? '',
    contactPhone: settings.contactPhone ?? '',
    website: settings.website ?? '',
    address: settings.address ?? '',
    // Required by the spec, but openapi-typescript drops `required` on a property it meets in allOf.
    embedOrigins: (settings.embedOrigins ?? []).join('\n'),
  }
}

// Empty optional fields are left out: the API validates any value sent (an empty e-mail is invalid).
function toInput(values: Values): TenantSettingsInput {
  const optional = (value: string) => value.trim() || undefined
  return {
    displayName: values.displayName.trim(),
    contactEmail: optional(values.contactEmail),
    contactPhone: optional(values.contactPhone),
    website: optional(values.website),
    address: optional(values.address),
    embedOrigins: values.embedOrigins
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean),
  }
}

/** The API's field errors for the fields of this form; the rest is reported as a whole. */
function formErrors(error: unknown): Partial<Values> {
  if (!isApiError(error)) return {}
  const byField = error.fieldErrors()
  return Object.fromEntries(fieldNames.filter((name) => byField[name]).map((name) => [name, byField[name]]))
}

type Outcome = { kind: 'saved' } | { kind: 'invalid' } | { kind: 'failed'; error: unknown }

function SettingsForm({ slug, settings }: { slug: string; settings: TenantSettings }) {
  const { t, formatDateTime } = useI18n()
  const { expire } = useSession()
  const { reload: reloadTenant } = useTenant()
  const [values, setValues] = useState(() => toValues(settings))
  const [updatedAt, setUpdatedAt] = useState(settings.updatedAt)
  const [errors, setErrors] = useState<Partial<Values>>({})
  const [outcome, setOutcome] = useState<Outcome>()
  const [saving, setSaving] = useState(false)
  const formRef = useRef<HTMLFormElement>(null)

  // Take the user to the first field the API rejected.
  useEffect(() => {
    if (outcome?.kind === 'invalid') focusFirstInvalid(formRef.current)
  }, [outcome])

  const save = async (event: FormEvent) => {
    event.preventDefault()
    setSaving(true)
    setOutcome(undefined)
    try {
      const saved = await unwrap(
        api.PUT('/api/v1/tenants/{tenant}/settings', { params: { path: { tenant: slug } }, body: toInput(values) }),
      )
      setValues(toValues(saved))
      setUpdatedAt(saved.updatedAt)
      setErrors({})
      setOutcome({ kind: 'saved' })
      reloadTenant() // the header shows the display name
    } catch (error) {
      if (isApiError(error, 401)) expire()
      const fieldErrors = formErrors(error)
      setErrors(fieldErrors)
      setOutcome(Object.keys(fieldErrors).length > 0 ? { kind: 'invalid' } : { kind: 'failed', error })
    } finally {
      setSaving(false)
    }
  }

  const field = (name: FieldName) => ({
    id: name,
    label: t(`settings.${name}`),
    value: values[name],
    error: errors[name],
    onChange: (event: ChangeEvent<HTMLInputElement | HTMLTextAreaElement>) =>
      setValues((current) => ({ ...current, [name]: event.target.value })),
  })

  return (
    <form ref={formRef} className="epom-form" onSubmit={save} noValidate>
      {outcome?.kind === 'saved' && <Message color="success">{t('settings.saved')}</Message>}
      {outcome?.kind === 'invalid' && <Message color="error">{t('settings.invalid')}</Message>}
      {outcome?.kind === 'failed' && <ErrorMessage error={outcome.error} />}

      <TextField {...field('displayName')} required autoComplete="organization" />
      <TextField {...field('contactEmail')} type="email" autoComplete="email" />
      <TextField {...field('contactPhone')} type="tel" autoComplete="tel" />
      <TextField {...field('website')} type="url" autoComplete="url" hint={t('settings.websiteHint')} />
      <TextAreaField {...field('address')} rows={3} autoComplete="street-address" />
      <TextAreaField {...field('embedOrigins')} rows={4} hint={t('settings.embedOriginsHint')} />

      <p className="epom-muted">{t('settings.updatedAt', { date: formatDateTime(updatedAt) })}</p>
      <Button type="solid" color="primary" nativeType="submit" disabled={saving}>
        {saving ? t('settings.saving') : t('settings.save')}
      </Button>
    </form>
  )
}
