import { useState, type FormEvent } from 'react'
import { Link, useNavigate, useSearchParams } from 'react-router'
import { api, isApiError, unwrap } from '../api/client'
import type { components } from '../api/schema'
import { Button } from '../components/Button'
import { useFocusInvalid } from '../components/focusInvalid'
import { ErrorMessage } from '../components/ErrorMessage'
import { TextField } from '../components/FormField'
import { Loaded } from '../components/Loaded'
import { Loading } from '../components/Loading'
import { Message } from '../components/Message'
import { PageHeading } from '../components/PageHeading'
import { useI18n } from '../i18n/I18nProvider'
import { useApi } from '../lib/useApi'
import { useSession } from '../session/SessionProvider'
import { useRoleName } from './MembersPage'

type Preview = components['schemas']['InvitationPreview']

/**
 * /app/pozvanka?token=…, the link of an invitation e-mail. Open to everyone: the invitee may have
 * no account yet. It says which municipality invites and with which roles, then either accepts
 * for the signed-in invitee or sets up a new account.
 */
export function InvitationPage() {
  const { t } = useI18n()
  const [params] = useSearchParams()
  const token = params.get('token') ?? ''
  const preview = useApi(
    () =>
      token
        ? unwrap(api.GET('/api/v1/invitations/{token}', { params: { path: { token } } }))
        : Promise.reject(new Error('no token')),
    [token],
  )

  if (!token) {
    return (
      <div className="epom-narrow">
        <PageHeading>{t('invitation.title')}</PageHeading>
        <Message color="error">{t('invitation.noToken')}</Message>
      </div>
    )
  }
  return (
    <div className="epom-narrow">
      {preview.data ? (
        <PageHeading>{t('invitation.titleOf', { tenant: preview.data.tenantName })}</PageHeading>
      ) : (
        <PageHeading>{t('invitation.title')}</PageHeading>
      )}
      <Loaded state={preview}>{(data) => <Invitation token={token} preview={data} />}</Loaded>
    </div>
  )
}

function Invitation({ token, preview }: { token: string; preview: Preview }) {
  const { t, formatDateTime } = useI18n()
  const { state, me, signOut } = useSession()
  const roleName = useRoleName()
  const tenant = preview.tenantName
  const signInNext = `/prihlaseni?next=${encodeURIComponent(`/pozvanka?token=${token}`)}`

  const about = (
    <>
      <p>
        {preview.inviterName
          ? t('invitation.intro', { inviter: preview.inviterName, tenant })
          : t('invitation.introNoInviter', { tenant })}
      </p>
      <p>
        {t('invitation.for', { email: preview.email })} {t('invitation.roles', { roles: preview.roles.map(roleName).join(', ') })}
      </p>
    </>
  )

  if (preview.expired) {
    return (
      <>
        {about}
        <Message color="error">{t('invitation.expiredText', { date: formatDateTime(preview.expiresAt) })}</Message>
      </>
    )
  }
  if (state.status === 'loading') return <Loading />

  let action
  if (me && me.email.toLowerCase() === preview.email) {
    action = <AcceptSignedIn token={token} slug={preview.tenantSlug} />
  } else if (me) {
    action = (
      <>
        <Message color="error">{t('invitation.wrongAccount', { me: me.email, email: preview.email })}</Message>
        <Button type="outlined" color="primary" onClick={() => void signOut().catch(() => undefined)}>
          {t('invitation.signOut')}
        </Button>
      </>
    )
  } else if (preview.hasAccount) {
    action = (
      <>
        <p>{t('invitation.hasAccount', { email: preview.email })}</p>
        <p>
          <Link to={signInNext}>{t('invitation.signIn')}</Link>
        </p>
      </>
    )
  } else {
    action = <CreateAccount token={token} preview={preview} />
  }

  return (
    <>
      {about}
      <p className="epom-muted">{t('invitation.validUntil', { date: formatDateTime(preview.expiresAt) })}</p>
      {action}
    </>
  )
}

function AcceptSignedIn({ token, slug }: { token: string; slug: string }) {
  const { t } = useI18n()
  const { reload } = useSession()
  const navigate = useNavigate()
  const [accepting, setAccepting] = useState(false)
  const [error, setError] = useState<unknown>()

  const accept = async () => {
    setAccepting(true)
    setError(undefined)
    try {
      await unwrap(api.POST('/api/v1/invitations/{token}/accept', { params: { path: { token } }, body: {} }))
      reload() // the new membership
      navigate(`/t/${slug}`, { replace: true })
    } catch (failure) {
      setError(failure)
      setAccepting(false)
    }
  }

  return (
    <>
      {error !== undefined && <ErrorMessage error={error} />}
      <Button type="solid" color="primary" disabled={accepting} onClick={accept}>
        {accepting ? t('invitation.accepting') : t('invitation.accept')}
      </Button>
    </>
  )
}

type AccountErrors = Partial<Record<'name' | 'password', string>>

function CreateAccount({ token, preview }: { token: string; preview: Preview }) {
  const { t } = useI18n()
  const { reload } = useSession()
  const navigate = useNavigate()
  const [name, setName] = useState(preview.name)
  const [password, setPassword] = useState('')
  const [errors, setErrors] = useState<AccountErrors>({})
  const [failure, setFailure] = useState<unknown>()
  const [submitting, setSubmitting] = useState(false)
  // Take the user to the first field the API (or the form) rejected.
  const { formRef, refused } = useFocusInvalid()

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setSubmitting(true)
    setFailure(undefined)
    try {
      await unwrap(
        api.POST('/api/v1/invitations/{token}/accept', {
          params: { path: { token } },
          body: { name: name.trim(), password },
        }),
      )
      reload() // the answer set the session cookie
      navigate(`/t/${preview.tenantSlug}`, { replace: true })
    } catch (error) {
      const byField = isApiError(error) ? error.fieldErrors() : {}
      const fields: AccountErrors = { name: byField.name, password: byField.password }
      setErrors(fields)
      if (!fields.name && !fields.password) setFailure(error)
      refused()
      setSubmitting(false)
    }
  }

  const invalid = !!(errors.name || errors.password)
  return (
    <form ref={formRef} className="epom-form" onSubmit={submit} noValidate>
      <p>{t('invitation.setUp')}</p>
      {invalid && <Message color="error">{t('invitation.invalid')}</Message>}
      {failure !== undefined && <ErrorMessage error={failure} />}
      <TextField
        id="account-name"
        label={t('invitation.name')}
        autoComplete="name"
        required
        value={name}
        error={errors.name}
        onChange={(event) => setName(event.target.value)}
      />
      {/* The address the password belongs to, for password managers. */}
      <input type="email" autoComplete="username" value={preview.email} readOnly hidden />
      <TextField
        id="account-password"
        label={t('invitation.password')}
        type="password"
        autoComplete="new-password"
        required
        hint={t('invitation.passwordHint')}
        value={password}
        error={errors.password}
        onChange={(event) => setPassword(event.target.value)}
        accessibleShowPasswordLabel={t('signIn.showPassword')}
        accessibleHidePasswordLabel={t('signIn.hidePassword')}
      />
      <Button type="solid" color="primary" nativeType="submit" disabled={submitting}>
        {submitting ? t('invitation.accepting') : t('invitation.createAndAccept')}
      </Button>
    </form>
  )
}
