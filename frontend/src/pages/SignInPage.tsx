import { useState, type FormEvent } from 'react'
import { Link, Navigate, useNavigate, useSearchParams } from 'react-router'
import { isApiError } from '../api/client'
import { Button } from '../components/Button'
import { ExternalSignIn } from '../components/ExternalSignIn'
import { ErrorMessage } from '../components/ErrorMessage'
import { TextField } from '../components/FormField'
import { Message } from '../components/Message'
import { PageHeading } from '../components/PageHeading'
import { useI18n } from '../i18n/I18nProvider'
import { useSession } from '../session/SessionProvider'
import { SecondFactorForm } from './SecondFactorForm'

/** Where to go after signing in: only a path inside the app, never another origin ("//evil"). */
function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/'
}

export function SignInPage() {
  const { t } = useI18n()
  const { me, signIn } = useSession()
  const navigate = useNavigate()
  const [params] = useSearchParams()
  const next = safeNext(params.get('next'))
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [submitting, setSubmitting] = useState(false)
  const [error, setError] = useState<unknown>()
  // mfa: after a right password of an account with two-factor sign-in, the code step.
  // An external sign-in of an account with TOTP arrives here with ?krok=kod and a pending sign-in.
  const [step, setStep] = useState<'password' | 'second-factor'>(
    params.get('krok') === 'kod' ? 'second-factor' : 'password',
  )
  const [expired, setExpired] = useState(false)

  if (me && !submitting && step === 'password') return <Navigate to={next} replace />

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setSubmitting(true)
    setError(undefined)
    setExpired(false)
    try {
      if ((await signIn(email, password)) === 'second-factor') {
        setPassword('')
        setSubmitting(false)
        setStep('second-factor')
        return
      }
      navigate(next, { replace: true })
    } catch (failure) {
      setError(failure)
      setSubmitting(false)
    }
  }

  const wrongCredentials = isApiError(error, 401)
  const notVerified = isApiError(error) && error.problem.type === '/problems/email-not-verified'
  if (step === 'second-factor') {
    return (
      <div className="epom-narrow">
        <PageHeading>{t('signIn.title')}</PageHeading>
        <SecondFactorForm
          onDone={() => navigate(next, { replace: true })}
          onExpired={() => {
            setExpired(true)
            setStep('password')
          }}
        />
      </div>
    )
  }
  return (
    <div className="epom-narrow">
      <PageHeading>{t('signIn.title')}</PageHeading>
      <p>{t('signIn.intro')}</p>
      {expired && <Message color="error">{t('mfa.expired')}</Message>}
      {wrongCredentials && <Message color="error">{t('signIn.failed')}</Message>}
      {error !== undefined && !wrongCredentials && <ErrorMessage error={error} />}
      {notVerified && (
        <p>
          <Link to="/overeni">{t('accounts.notVerifiedResend')}</Link>
        </p>
      )}
      <form className="epom-form" onSubmit={submit} noValidate>
        <TextField
          id="email"
          label={t('signIn.email')}
          type="email"
          autoComplete="username"
          required
          value={email}
          onChange={(event) => setEmail(event.target.value)}
        />
        <TextField
          id="password"
          label={t('signIn.password')}
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(event) => setPassword(event.target.value)}
          accessibleShowPasswordLabel={t('signIn.showPassword')}
          accessibleHidePasswordLabel={t('signIn.hidePassword')}
        />
        <Button type="solid" color="primary" nativeType="submit" disabled={submitting}>
          {submitting ? t('signIn.submitting') : t('signIn.submit')}
        </Button>
      </form>
      <p>
        <Link to="/zapomenute-heslo">{t('accounts.forgotLink')}</Link>
      </p>
      <p>
        {t('accounts.noAccount')} <Link to="/registrace">{t('accounts.registerLink')}</Link>
      </p>
      <ExternalSignIn next={next} />
    </div>
  )
}
