import { useEffect, useRef, useState, type ChangeEvent, type FormEvent, type ReactNode, type RefObject } from 'react'
import { Link, useSearchParams } from 'react-router'
import { api, isApiError, unwrap } from '../api/client'
import { Button } from '../components/Button'
import { ErrorMessage } from '../components/ErrorMessage'
import { TextField } from '../components/FormField'
import { Message } from '../components/Message'
import { PageHeading } from '../components/PageHeading'
import { useI18n } from '../i18n/I18nProvider'
import type { MessageKey } from '../i18n/messages'
import { useSession } from '../session/SessionProvider'
import { focusFirstInvalid } from '../components/focusInvalid'

// The account pages: registration (registrace), e-mail verification (ověření), forgotten
// password (zapomenuté heslo), password reset (obnova hesla) and change (změna hesla). The
// client only hints (length, the two passwords match); the server decides, and its per-field
// problems are shown next to their fields.

const minPasswordLength = 10

type Values<F extends string> = Record<F, string>
type Errors<F extends string> = Partial<Record<F, string>>
type Outcome = { kind: 'done' } | { kind: 'invalid' } | { kind: 'failed'; error: unknown }

/**
 * Form state shared by the account pages: values, field errors (the client's and the API's),
 * the outcome, and focus on the first invalid field or on the outcome message.
 */
function useAccountForm<F extends string>(fields: readonly F[], initial?: Partial<Values<F>>) {
  const [values, setValues] = useState(
    () => Object.fromEntries(fields.map((f) => [f, initial?.[f] ?? ''])) as Values<F>,
  )
  const [errors, setErrors] = useState<Errors<F>>({})
  const [outcome, setOutcome] = useState<Outcome>()
  const [sending, setSending] = useState(false)
  const formRef = useRef<HTMLFormElement>(null)
  const outcomeRef = useRef<HTMLDivElement>(null)

  useEffect(() => {
    if (outcome?.kind === 'invalid') focusFirstInvalid(formRef.current)
    else if (outcome) outcomeRef.current?.focus()
  }, [outcome])

  /** Runs `send` unless `check` finds errors; maps the API's field errors onto the fields. */
  const submit = (check: (v: Values<F>) => Errors<F>, send: (v: Values<F>) => Promise<unknown>) => async (event: FormEvent) => {
    event.preventDefault()
    const clientErrors = check(values)
    setErrors(clientErrors)
    if (Object.keys(clientErrors).length > 0) {
      setOutcome({ kind: 'invalid' })
      return
    }
    setSending(true)
    setOutcome(undefined)
    try {
      await send(values)
      setOutcome({ kind: 'done' })
    } catch (error) {
      const byField = isApiError(error) ? error.fieldErrors() : {}
      const fieldErrors = Object.fromEntries(fields.filter((f) => byField[f]).map((f) => [f, byField[f]])) as Errors<F>
      setErrors(fieldErrors)
      setOutcome(Object.keys(fieldErrors).length > 0 ? { kind: 'invalid' } : { kind: 'failed', error })
    } finally {
      setSending(false)
    }
  }

  const bind = (name: F) => ({
    id: name,
    name,
    value: values[name],
    error: errors[name],
    onChange: (event: ChangeEvent<HTMLInputElement>) => setValues((current) => ({ ...current, [name]: event.target.value })),
  })

  return { values, outcome, sending, formRef, outcomeRef, submit, bind }
}

/** The outcome message, focusable so that moving focus there announces it. */
function Outcome({ outcomeRef, children }: { outcomeRef: RefObject<HTMLDivElement | null>; children: ReactNode }) {
  return (
    <div ref={outcomeRef} tabIndex={-1} className="epom-outcome">
      {children}
    </div>
  )
}

function useRequired() {
  const { t } = useI18n()
  return <F extends string>(values: Values<F>, names: F[]): Errors<F> =>
    Object.fromEntries(names.filter((n) => !values[n].trim()).map((n) => [n, t('accounts.required')])) as Errors<F>
}

/** Client-side password hints: too short so far, and the repeated password differs. */
function usePasswordCheck() {
  const { t } = useI18n()
  return (password: string, again: string): { password?: string; again?: string } => {
    const out: { password?: string; again?: string } = {}
    const length = [...password].length
    if (length > 0 && length < minPasswordLength) out.password = t('accounts.passwordTooShort', { n: length })
    if (again !== password) out.again = t('accounts.passwordMismatch')
    return out
  }
}

function PasswordInput(props: Parameters<typeof TextField>[0]) {
  const { t } = useI18n()
  return (
    <TextField
      type="password"
      accessibleShowPasswordLabel={t('signIn.showPassword')}
      accessibleHidePasswordLabel={t('signIn.hidePassword')}
      {...props}
    />
  )
}

/** What a form's bind gives a field. */
type Bound = ReturnType<ReturnType<typeof useAccountForm<string>>['bind']>

/** The new password with its hint, then the same again: registration, reset and change. */
function NewPasswordInputs({ password, again, label }: { password: Bound; again: Bound; label: MessageKey }) {
  const { t } = useI18n()
  return (
    <>
      <PasswordInput {...password} label={t(label)} required autoComplete="new-password" hint={t('accounts.passwordHint')} />
      <PasswordInput {...again} label={t('accounts.passwordAgain')} required autoComplete="new-password" />
    </>
  )
}

/** The outcome of a refused submission: invalid fields, or the error the server gave. */
function Problems({ outcome }: { outcome: Outcome | undefined }) {
  const { t } = useI18n()
  if (outcome?.kind === 'invalid') return <Message color="error">{t('accounts.invalid')}</Message>
  if (outcome?.kind === 'failed') return <ErrorMessage error={outcome.error} />
  return null
}

function SubmitButton({ sending, label }: { sending: boolean; label: MessageKey }) {
  const { t } = useI18n()
  return (
    <Button type="solid" color="primary" nativeType="submit" disabled={sending}>
      {sending ? t('accounts.sending') : t(label)}
    </Button>
  )
}

/** Registrace: a citizen creates an account. */
export function RegisterPage() {
  const { t } = useI18n()
  const required = useRequired()
  const checkPassword = usePasswordCheck()
  const form = useAccountForm(['name', 'email', 'password', 'passwordAgain'] as const)
  const check = (v: typeof form.values) => {
    const pw = checkPassword(v.password, v.passwordAgain)
    return {
      ...(pw.password && { password: pw.password }),
      ...(pw.again && { passwordAgain: pw.again }),
      ...required(v, ['name', 'email', 'password']),
    }
  }
  const send = (v: typeof form.values) =>
    unwrap(api.POST('/api/v1/accounts', { body: { name: v.name.trim(), email: v.email.trim(), password: v.password } }))

  return (
    <div className="epom-narrow">
      <PageHeading>{t('accounts.register.title')}</PageHeading>
      {form.outcome?.kind === 'done' ? (
        <Outcome outcomeRef={form.outcomeRef}>
          <Message color="success">{t('accounts.register.done', { email: form.values.email.trim() })}</Message>
        </Outcome>
      ) : (
        <>
          <p>{t('accounts.register.intro')}</p>
          <Outcome outcomeRef={form.outcomeRef}>
            <Problems outcome={form.outcome} />
          </Outcome>
          <form ref={form.formRef} className="epom-form" onSubmit={form.submit(check, send)} noValidate>
            <TextField {...form.bind('name')} label={t('accounts.name')} required autoComplete="name" />
            <TextField {...form.bind('email')} label={t('accounts.email')} type="email" required autoComplete="email" />
            <NewPasswordInputs password={form.bind('password')} again={form.bind('passwordAgain')} label="accounts.password" />
            <SubmitButton sending={form.sending} label="accounts.register.submit" />
          </form>
        </>
      )}
      <p>
        <Link to="/prihlaseni">{t('accounts.signInLink')}</Link>
      </p>
    </div>
  )
}

/** Asks for a new verification link; the answer is the same whether or not the address has an account. */
function ResendVerification() {
  const { t } = useI18n()
  const required = useRequired()
  const form = useAccountForm(['email'] as const)
  const send = (v: typeof form.values) =>
    unwrap(api.POST('/api/v1/accounts/verification', { body: { email: v.email.trim() } }))
  return (
    <section aria-labelledby="resend-heading">
      <h2 id="resend-heading">{t('accounts.verify.resendTitle')}</h2>
      <Outcome outcomeRef={form.outcomeRef}>
        {form.outcome?.kind === 'done' && (
          <Message color="success">{t('accounts.verify.resent', { email: form.values.email.trim() })}</Message>
        )}
        <Problems outcome={form.outcome} />
      </Outcome>
      <form ref={form.formRef} className="epom-form" onSubmit={form.submit((v) => required(v, ['email']), send)} noValidate>
        <TextField {...form.bind('email')} label={t('accounts.email')} type="email" required autoComplete="email" />
        <SubmitButton sending={form.sending} label="accounts.verify.resendSubmit" />
      </form>
    </section>
  )
}

/**
 * Ověření e-mailu. The link is redeemed by a button press rather than on load: mail scanners that
 * open links must not use up the single-use token.
 */
export function VerifyEmailPage() {
  const { t } = useI18n()
  const [params] = useSearchParams()
  const token = params.get('token') ?? ''
  const form = useAccountForm([] as const)
  const send = () => unwrap(api.POST('/api/v1/accounts/verify', { body: { token } }))
  const failed = form.outcome?.kind === 'failed'

  return (
    <div className="epom-narrow">
      <PageHeading>{t('accounts.verify.title')}</PageHeading>
      <Outcome outcomeRef={form.outcomeRef}>
        {form.outcome?.kind === 'done' && (
          <Message color="success">
            <p>{t('accounts.verify.done')}</p>
            <p>
              <Link to="/prihlaseni">{t('accounts.signInLink')}</Link>
            </p>
          </Message>
        )}
        {form.outcome?.kind === 'failed' && <ErrorMessage error={form.outcome.error} />}
      </Outcome>
      {!token && <Message color="error">{t('accounts.verify.noToken')}</Message>}
      {token && form.outcome?.kind !== 'done' && !failed && (
        <>
          <p>{t('accounts.verify.intro')}</p>
          <form ref={form.formRef} className="epom-form" onSubmit={form.submit(() => ({}), send)} noValidate>
            <SubmitButton sending={form.sending} label="accounts.verify.submit" />
          </form>
        </>
      )}
      {(!token || failed) && <ResendVerification />}
    </div>
  )
}

/** Zapomenuté heslo: asks for a reset link. */
export function ForgotPasswordPage() {
  const { t } = useI18n()
  const required = useRequired()
  const form = useAccountForm(['email'] as const)
  const send = (v: typeof form.values) => unwrap(api.POST('/api/v1/password-reset', { body: { email: v.email.trim() } }))
  return (
    <div className="epom-narrow">
      <PageHeading>{t('accounts.forgot.title')}</PageHeading>
      {form.outcome?.kind === 'done' ? (
        <Outcome outcomeRef={form.outcomeRef}>
          <Message color="success">{t('accounts.forgot.done', { email: form.values.email.trim() })}</Message>
        </Outcome>
      ) : (
        <>
          <p>{t('accounts.forgot.intro')}</p>
          <Outcome outcomeRef={form.outcomeRef}>
            <Problems outcome={form.outcome} />
          </Outcome>
          <form ref={form.formRef} className="epom-form" onSubmit={form.submit((v) => required(v, ['email']), send)} noValidate>
            <TextField {...form.bind('email')} label={t('accounts.email')} type="email" required autoComplete="email" />
            <SubmitButton sending={form.sending} label="accounts.forgot.submit" />
          </form>
        </>
      )}
      <p>
        <Link to="/prihlaseni">{t('accounts.signInLink')}</Link>
      </p>
    </div>
  )
}

/** Obnova hesla: sets a new password with the link's token. */
export function ResetPasswordPage() {
  const { t } = useI18n()
  const [params] = useSearchParams()
  const token = params.get('token') ?? ''
  const required = useRequired()
  const checkPassword = usePasswordCheck()
  const form = useAccountForm(['password', 'passwordAgain'] as const)
  const check = (v: typeof form.values) => {
    const pw = checkPassword(v.password, v.passwordAgain)
    return {
      ...(pw.password && { password: pw.password }),
      ...(pw.again && { passwordAgain: pw.again }),
      ...required(v, ['password']),
    }
  }
  const send = (v: typeof form.values) =>
    unwrap(api.POST('/api/v1/password-reset/confirm', { body: { token, password: v.password } }))
  const linkProblem =
    form.outcome?.kind === 'failed' && isApiError(form.outcome.error) && /\/problems\/link-/.test(form.outcome.error.problem.type)

  return (
    <div className="epom-narrow">
      <PageHeading>{t('accounts.reset.title')}</PageHeading>
      {form.outcome?.kind === 'done' ? (
        <Outcome outcomeRef={form.outcomeRef}>
          <Message color="success">
            <p>{t('accounts.reset.done')}</p>
            <p>
              <Link to="/prihlaseni">{t('accounts.signInLink')}</Link>
            </p>
          </Message>
        </Outcome>
      ) : (
        <>
          <Outcome outcomeRef={form.outcomeRef}>
            <Problems outcome={form.outcome} />
          </Outcome>
          {(!token || linkProblem) && (
            <p>
              <Link to="/zapomenute-heslo">{t('accounts.reset.newLink')}</Link>
            </p>
          )}
          {token && !linkProblem && (
            <>
              <p>{t('accounts.reset.intro')}</p>
              <form ref={form.formRef} className="epom-form" onSubmit={form.submit(check, send)} noValidate>
                <NewPasswordInputs password={form.bind('password')} again={form.bind('passwordAgain')} label="accounts.newPassword" />
                <SubmitButton sending={form.sending} label="accounts.reset.submit" />
              </form>
            </>
          )}
        </>
      )}
    </div>
  )
}

/** Změna hesla: a signed-in user changes the password. */
export function ChangePasswordPage() {
  const { t } = useI18n()
  const { expire } = useSession()
  const required = useRequired()
  const checkPassword = usePasswordCheck()
  const form = useAccountForm(['currentPassword', 'newPassword', 'passwordAgain'] as const)
  const check = (v: typeof form.values) => {
    const pw = checkPassword(v.newPassword, v.passwordAgain)
    return {
      ...(pw.password && { newPassword: pw.password }),
      ...(pw.again && { passwordAgain: pw.again }),
      ...required(v, ['currentPassword', 'newPassword']),
    }
  }
  const send = async (v: typeof form.values) => {
    try {
      await unwrap(
        api.PUT('/api/v1/me/password', { body: { currentPassword: v.currentPassword, newPassword: v.newPassword } }),
      )
    } catch (error) {
      if (isApiError(error, 401)) expire()
      throw error
    }
  }
  return (
    <div className="epom-narrow">
      <PageHeading>{t('accounts.change.title')}</PageHeading>
      <p>{t('accounts.change.intro')}</p>
      <Outcome outcomeRef={form.outcomeRef}>
        {form.outcome?.kind === 'done' && <Message color="success">{t('accounts.change.done')}</Message>}
        <Problems outcome={form.outcome} />
      </Outcome>
      {form.outcome?.kind !== 'done' && (
        <form ref={form.formRef} className="epom-form" onSubmit={form.submit(check, send)} noValidate>
          <PasswordInput
            {...form.bind('currentPassword')}
            label={t('accounts.currentPassword')}
            required
            autoComplete="current-password"
          />
          <NewPasswordInputs password={form.bind('newPassword')} again={form.bind('passwordAgain')} label="accounts.newPassword" />
          <SubmitButton sending={form.sending} label="accounts.change.submit" />
        </form>
      )}
    </div>
  )
}
