import { useEffect, useState, type FormEvent } from 'react'
import { isApiError } from '../api/client'
import { Button } from '../components/Button'
import { ErrorMessage } from '../components/ErrorMessage'
import { TextField } from '../components/FormField'
import { useI18n } from '../i18n/I18nProvider'
import { useSession } from '../session/SessionProvider'

/** "4 tries left." → 4; the server says how many wrong codes the pending sign-in still takes. */
function triesLeft(detail: string | undefined): number | undefined {
  const match = detail?.match(/\d+/)
  return match ? Number(match[0]) : undefined
}

/**
 * The second step of signing in: a code from the authenticator app, or a recovery code. `onExpired`
 * runs when the pending sign-in ended (too many wrong codes, five minutes passed): the password is
 * needed again.
 */
export function SecondFactorForm({ onDone, onExpired }: { onDone: () => void; onExpired: () => void }) {
  const { t } = useI18n()
  const { signInSecondFactor } = useSession()
  const [recovery, setRecovery] = useState(false)
  const [value, setValue] = useState('')
  const [submitting, setSubmitting] = useState(false)
  const [error, setError] = useState<unknown>()
  const [fieldError, setFieldError] = useState<string>()
  const fieldId = recovery ? 'recovery-code' : 'code'

  // The step replaces the password form: focus goes to its only field.
  useEffect(() => {
    document.getElementById(fieldId)?.focus()
  }, [fieldId])

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    const proof = value.trim()
    if (!proof) {
      setFieldError(t('mfa.codeRequired'))
      document.getElementById(fieldId)?.focus()
      return
    }
    setSubmitting(true)
    setError(undefined)
    setFieldError(undefined)
    try {
      await signInSecondFactor(recovery ? { recoveryCode: proof } : { code: proof.replaceAll(' ', '') })
      onDone()
    } catch (failure) {
      setSubmitting(false)
      if (isApiError(failure) && failure.problem.type === '/problems/mfa-login-expired') {
        onExpired()
        return
      }
      if (isApiError(failure) && failure.problem.type === '/problems/wrong-code') {
        const n = triesLeft(failure.problem.detail)
        setFieldError(t('mfa.wrongCode') + (n === undefined ? '' : ` ${t('mfa.triesLeft', { n: String(n) })}`))
        setValue('')
        document.getElementById(fieldId)?.focus()
        return
      }
      setError(failure)
    }
  }

  const toggle = () => {
    setRecovery((r) => !r)
    setValue('')
    setFieldError(undefined)
  }

  return (
    <>
      <p>{recovery ? t('mfa.recoveryIntro') : t('mfa.codeIntro')}</p>
      {error !== undefined && <ErrorMessage error={error} />}
      <form className="epom-form" onSubmit={submit} noValidate>
        {recovery ? (
          <TextField
            key="recovery"
            id="recovery-code"
            label={t('mfa.recoveryCode')}
            autoComplete="off"
            autoCapitalize="none"
            spellCheck={false}
            required
            error={fieldError}
            value={value}
            onChange={(event) => setValue(event.target.value)}
          />
        ) : (
          <TextField
            key="code"
            id="code"
            label={t('mfa.code')}
            autoComplete="one-time-code"
            inputMode="numeric"
            pattern="[0-9 ]*"
            maxLength={8}
            required
            error={fieldError}
            value={value}
            onChange={(event) => setValue(event.target.value)}
          />
        )}
        <Button type="solid" color="primary" nativeType="submit" disabled={submitting}>
          {submitting ? t('mfa.verifying') : t('mfa.verify')}
        </Button>
      </form>
      <p>
        <Button type="base" color="primary" size="s" onClick={toggle}>
          {recovery ? t('mfa.useCode') : t('mfa.useRecovery')}
        </Button>
      </p>
    </>
  )
}
