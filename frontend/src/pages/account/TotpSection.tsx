import { useState, type FormEvent } from 'react'
import { api, isApiError, unwrap, type Me } from '../../api/client'
import { Button } from '../../components/Button'
import { ErrorMessage } from '../../components/ErrorMessage'
import { TextField } from '../../components/FormField'
import { Message } from '../../components/Message'
import { useI18n } from '../../i18n/I18nProvider'
import type { components } from '../../api/schema'
import { useSession } from '../../session/SessionProvider'
import { RecoveryCodes } from './RecoveryCodes'

type Enrolment = components['schemas']['TotpEnrolment']

/** A form with one code field: wrong codes are shown at the field, other failures above it. */
function CodeForm({
  id,
  label,
  submitLabel,
  hint,
  onSubmit,
  allowPassword,
}: {
  id: string
  label: string
  submitLabel: string
  hint?: string
  onSubmit: (proof: { code: string } | { password: string }) => Promise<void>
  allowPassword?: boolean
}) {
  const { t } = useI18n()
  const [code, setCode] = useState('')
  const [password, setPassword] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>()
  const [fieldError, setFieldError] = useState<string>()

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    const c = code.replaceAll(' ', '')
    if (!c && !(allowPassword && password)) {
      setFieldError(t('mfa.codeRequired'))
      document.getElementById(id)?.focus()
      return
    }
    setBusy(true)
    setError(undefined)
    setFieldError(undefined)
    try {
      await onSubmit(c ? { code: c } : { password })
      setCode('')
      setPassword('')
    } catch (failure) {
      if (isApiError(failure) && failure.problem.type === '/problems/wrong-code') {
        setFieldError(t('mfa.wrongCode'))
        document.getElementById(id)?.focus()
      } else {
        setError(failure)
      }
    } finally {
      setBusy(false)
    }
  }

  return (
    <form className="epom-form" onSubmit={submit} noValidate>
      {error !== undefined && <ErrorMessage error={error} />}
      <TextField
        id={id}
        label={label}
        hint={hint}
        autoComplete="one-time-code"
        inputMode="numeric"
        maxLength={8}
        error={fieldError}
        value={code}
        onChange={(event) => setCode(event.target.value)}
      />
      {allowPassword && (
        <TextField
          id={`${id}-password`}
          label={t('account.password')}
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(event) => setPassword(event.target.value)}
          accessibleShowPasswordLabel={t('signIn.showPassword')}
          accessibleHidePasswordLabel={t('signIn.hidePassword')}
        />
      )}
      <Button type="solid" color="primary" nativeType="submit" disabled={busy}>
        {submitLabel}
      </Button>
    </form>
  )
}

/** Two-factor sign-in: its state, enrolment (QR code, key, confirming code), recovery codes, turning off. */
export function TotpSection({ me }: { me: Me }) {
  const { t } = useI18n()
  const { refresh } = useSession()
  const [enrolment, setEnrolment] = useState<Enrolment>()
  const [codes, setCodes] = useState<string[]>()
  const [notice, setNotice] = useState<string>()
  const [error, setError] = useState<unknown>()
  const [starting, setStarting] = useState(false)

  const start = async () => {
    setStarting(true)
    setError(undefined)
    setNotice(undefined)
    try {
      setEnrolment(await unwrap(api.POST('/api/v1/me/totp')))
    } catch (failure) {
      setError(failure)
    } finally {
      setStarting(false)
    }
  }

  const confirm = async (proof: { code: string } | { password: string }) => {
    if (!('code' in proof)) return
    const result = await unwrap(api.POST('/api/v1/me/totp/confirm', { body: proof }))
    setEnrolment(undefined)
    setCodes(result.codes)
    setNotice(t('account.enabled'))
    await refresh()
  }

  const regenerate = async (proof: { code: string } | { password: string }) => {
    if (!('code' in proof)) return
    const result = await unwrap(api.POST('/api/v1/me/recovery-codes', { body: proof }))
    setCodes(result.codes)
    await refresh()
  }

  const disable = async (proof: { code: string } | { password: string }) => {
    await unwrap(api.DELETE('/api/v1/me/totp', { body: proof }))
    setCodes(undefined)
    setNotice(t('account.disabled'))
    await refresh()
  }

  return (
    <section aria-labelledby="totp-heading" className="epom-section">
      <h2 id="totp-heading">{t('account.totp')}</h2>
      {notice && <Message color="success">{notice}</Message>}
      {error !== undefined && <ErrorMessage error={error} />}
      <p>{me.mfaEnabled ? t('account.totpOn') : t('account.totpOff')}</p>
      {!me.mfaEnabled && !enrolment && (
        <p>
          <Button type="solid" color="primary" disabled={starting} onClick={start}>
            {t('account.start')}
          </Button>
        </p>
      )}
      {!me.mfaEnabled && enrolment && (
        <div className="epom-enrolment">
          <p>{t('account.scan')}</p>
          <img src={enrolment.qrCode} alt={t('account.qrAlt')} width={200} height={200} className="epom-qr" />
          <p>
            {t('account.manual')} <code className="epom-secret">{enrolment.secret.replace(/(.{4})/g, '$1 ').trim()}</code>
          </p>
          <CodeForm id="confirm-code" label={t('mfa.code')} submitLabel={t('account.confirm')} onSubmit={confirm} />
        </div>
      )}
      {codes && <RecoveryCodes email={me.email} codes={codes} />}
      {me.mfaEnabled && (
        <>
          <h3>{t('account.recovery')}</h3>
          {me.recoveryCodesRemaining !== undefined && (
            <p>{t('account.recoveryRemaining', { n: String(me.recoveryCodesRemaining) })}</p>
          )}
          <CodeForm
            id="regenerate-code"
            label={t('mfa.code')}
            hint={t('account.regenerateHint')}
            submitLabel={t('account.regenerate')}
            onSubmit={regenerate}
          />
          <h3>{t('account.disable')}</h3>
          <CodeForm
            id="disable-code"
            label={t('mfa.code')}
            hint={t('account.disableHint')}
            submitLabel={t('account.disable')}
            onSubmit={disable}
            allowPassword
          />
        </>
      )}
    </section>
  )
}
