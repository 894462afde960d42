import { useEffect, useRef, useState, type FormEvent } from 'react'
import { api, isApiError, unwrap, type ModuleInfo, type Municipality } from '../api/client'
import { Button } from '../components/Button'
import { ErrorMessage } from '../components/ErrorMessage'
import { TextAreaField, TextField } from '../components/FormField'
import { Loading } from '../components/Loading'
import { Message } from '../components/Message'
import { PageHeading } from '../components/PageHeading'
import { useI18n } from '../i18n/I18nProvider'
import { useApi } from '../lib/useApi'
import { ModuleChecklist } from './ModuleChecklist'
import { focusFirstInvalid } from '../components/focusInvalid'

const fields = ['ico', 'contactName', 'email', 'phone', 'modules', 'note', 'consent'] as const
type Field = (typeof fields)[number]

type Lookup = { state: 'idle' } | { state: 'found'; municipality: Municipality } | { state: 'unknown' }

/** The public order form (objednávka): outside the signed-in area. */
export function SubscribePage() {
  const { t } = useI18n()
  const modules = useApi(() => unwrap(api.GET('/api/v1/modules')), [])
  const [done, setDone] = useState<string>()

  if (done) {
    return (
      <>
        <PageHeading>{t('subscribe.thanksTitle')}</PageHeading>
        <Message color="success">{t('subscribe.thanks', { name: done })}</Message>
        <p>
          <a href="/">{t('subscribe.home')}</a>
        </p>
      </>
    )
  }
  return (
    <>
      <PageHeading>{t('subscribe.title')}</PageHeading>
      <p>{t('subscribe.intro')}</p>
      {modules.error ? (
        <ErrorMessage error={modules.error} onRetry={modules.reload} />
      ) : !modules.data ? (
        <Loading />
      ) : (
        <SubscribeForm modules={modules.data.items} onDone={setDone} />
      )}
    </>
  )
}

function SubscribeForm({ modules, onDone }: { modules: ModuleInfo[]; onDone: (name: string) => void }) {
  const { t } = useI18n()
  const [values, setValues] = useState({ ico: '', contactName: '', email: '', phone: '', note: '', website: '' })
  const [selected, setSelected] = useState<string[]>([])
  const [consent, setConsent] = useState(false)
  const [errors, setErrors] = useState<Partial<Record<Field, string>>>({})
  const [failure, setFailure] = useState<unknown>()
  const [sending, setSending] = useState(false)
  const [lookup, setLookup] = useState<Lookup>({ state: 'idle' })
  const formRef = useRef<HTMLFormElement>(null)

  // Live lookup of the IČO in the ČSÚ catalogue once it has its eight digits.
  useEffect(() => {
    const ico = values.ico.trim()
    if (!/^\d{8}$/.test(ico)) {
      setLookup({ state: 'idle' })
      return
    }
    let current = true
    unwrap(api.GET('/api/v1/catalogue/municipalities', { params: { query: { q: ico, limit: 1 } } })).then(
      (found) => {
        if (!current) return
        const hit = found.items.find((m) => m.ico === ico)
        setLookup(hit ? { state: 'found', municipality: hit } : { state: 'unknown' })
      },
      () => current && setLookup({ state: 'idle' }),
    )
    return () => {
      current = false
    }
  }, [values.ico])

  const set = (name: keyof typeof values) => (event: { target: { value: string } }) =>
    setValues((v) => ({ ...v, [name]: event.target.value }))

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setFailure(undefined)
    const local: Partial<Record<Field, string>> = {}
    if (!/^\d{8}$/.test(values.ico.trim())) local.ico = t('subscribe.icoFormat')
    if (!values.contactName.trim()) local.contactName = t('subscribe.required')
    if (!values.email.trim()) local.email = t('subscribe.required')
    if (!consent) local.consent = t('subscribe.consentRequired')
    setErrors(local)
    if (Object.keys(local).length > 0) {
      requestAnimationFrame(() => focusFirstInvalid(formRef.current))
      return
    }
    setSending(true)
    try {
      const receipt = await unwrap(
        api.POST('/api/v1/subscription-requests', {
          body: {
            ico: values.ico.trim(),
            contactName: values.contactName.trim(),
            email: values.email.trim(),
            phone: values.phone.trim() || undefined,
            note: values.note.trim() || undefined,
            modules: selected,
            consent,
            website: values.website || undefined,
          },
        }),
      )
      onDone(receipt.municipality)
    } catch (error) {
      const byField = isApiError(error) ? error.fieldErrors() : {}
      const known: Partial<Record<Field, string>> = {}
      for (const f of fields) if (byField[f]) known[f] = byField[f]
      setErrors(known)
      if (Object.keys(known).length === 0) setFailure(error)
      else requestAnimationFrame(() => focusFirstInvalid(formRef.current))
    } finally {
      setSending(false)
    }
  }

  return (
    <form ref={formRef} className="epom-form" onSubmit={submit} noValidate>
      {failure !== undefined && <ErrorMessage error={failure} />}
      <TextField
        id="ico"
        label={t('subscribe.ico')}
        hint={t('subscribe.icoHint')}
        required
        inputMode="numeric"
        maxLength={8}
        autoComplete="off"
        value={values.ico}
        error={errors.ico}
        onChange={set('ico')}
      />
      <p className="epom-muted" aria-live="polite" id="ico-lookup">
        {lookup.state === 'found' &&
          t('subscribe.icoFound', { name: lookup.municipality.name, kraj: lookup.municipality.kraj })}
        {lookup.state === 'found' && lookup.municipality.tenantSlug && ` ${t('subscribe.icoTenant')}`}
        {lookup.state === 'unknown' && t('subscribe.icoUnknown')}
      </p>
      <TextField id="contactName" label={t('subscribe.contactName')} required autoComplete="name" value={values.contactName} error={errors.contactName} onChange={set('contactName')} />
      <TextField id="email" label={t('subscribe.email')} hint={t('subscribe.emailHint')} required type="email" autoComplete="email" value={values.email} error={errors.email} onChange={set('email')} />
      <TextField id="phone" label={t('subscribe.phone')} type="tel" autoComplete="tel" value={values.phone} error={errors.phone} onChange={set('phone')} />
      <ModuleChecklist id="modules" legend={t('subscribe.modules')} modules={modules} selected={selected} onChange={setSelected} error={errors.modules} />
      <TextAreaField id="note" label={t('subscribe.note')} rows={3} value={values.note} error={errors.note} onChange={set('note')} />
      {/* A trap for bots: hidden from people and assistive technology, never filled by them. */}
      <div className="epom-honeypot" aria-hidden="true">
        <label htmlFor="website">Web</label>
        <input id="website" name="website" tabIndex={-1} autoComplete="off" value={values.website} onChange={set('website')} />
      </div>
      <section aria-labelledby="terms-title" id="podminky" className="epom-terms">
        <h2 id="terms-title">{t('subscribe.termsTitle')}</h2>
        <p>{t('subscribe.terms1')}</p>
        <p>{t('subscribe.terms2')}</p>
      </section>
      <div className="epom-check">
        <input
          type="checkbox"
          id="consent"
          checked={consent}
          aria-invalid={errors.consent ? 'true' : undefined}
          aria-describedby={errors.consent ? 'consent-error' : undefined}
          onChange={(event) => setConsent(event.target.checked)}
        />
        <label htmlFor="consent">
          {t('subscribe.consent')} <a href="#podminky">{t('subscribe.termsLink')}</a>
        </label>
      </div>
      {errors.consent && (
        <p id="consent-error" className="epom-field-error" role="alert">
          {errors.consent}
        </p>
      )}
      <Button type="solid" color="primary" nativeType="submit" disabled={sending}>
        {t('subscribe.submit')}
      </Button>
    </form>
  )
}
