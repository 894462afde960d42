import { useState, type FormEvent } from 'react'
import { Navigate, useNavigate, useSearchParams } from 'react-router'
import { isApiError } from '../api/client'
import { Button } from '../components/Button'
import { ErrorMessage } from '../components/ErrorMessage'
import { TextField } from '../components/FormField'
import { Message } from '../components/Message'
import { PageHeading } from '../components/PageHeading'
import { useI18n } from '../i18n/I18nProvider'
import { useSession } from '../session/SessionProvider'

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

  if (me && !submitting) return <Navigate to={next} replace />

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setSubmitting(true)
    setError(undefined)
    try {
      await signIn(email, password)
      navigate(next, { replace: true })
    } catch (failure) {
      setError(failure)
      setSubmitting(false)
    }
  }

  const wrongCredentials = isApiError(error, 401)
  return (
    <div className="epom-narrow">
      <PageHeading>{t('signIn.title')}</PageHeading>
      <p>{t('signIn.intro')}</p>
      {wrongCredentials && <Message color="error">{t('signIn.failed')}</Message>}
      {error !== undefined && !wrongCredentials && <ErrorMessage error={error} />}
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
    </div>
  )
}
