import { useEffect, useRef, useState, type FormEvent } from 'react'
import { api, isApiError, unwrap } from '../api/client'
import type { components } from '../api/schema'
import { Button } from '../components/Button'
import { ErrorMessage } from '../components/ErrorMessage'
import { TextField } from '../components/FormField'
import { Loaded } from '../components/Loaded'
import { Message } from '../components/Message'
import { PageHeading } from '../components/PageHeading'
import { useI18n } from '../i18n/I18nProvider'
import type { MessageKey } from '../i18n/messages'
import { useApi } from '../lib/useApi'
import { useTenant } from '../tenant/TenantProvider'
import { focusFirstInvalid } from '../components/focusInvalid'

type ApiToken = components['schemas']['ApiToken']
type ApiTokenCreated = components['schemas']['ApiTokenCreated']

const expiryChoices = ['30', '90', '365', 'none'] as const
type Expiry = (typeof expiryChoices)[number]

const statusNames: Record<ApiToken['status'], MessageKey> = {
  active: 'tokens.status.active',
  expired: 'tokens.status.expired',
  revoked: 'tokens.status.revoked',
}

// Objects the kernel pages already name; a module's objects show their code.
const objectNames: Record<string, MessageKey> = {
  'tenant.settings': 'nav.settings',
  'tenant.members': 'nav.members',
  'tenant.mail': 'nav.mail',
  'tenant.audit': 'nav.audit',
}

const actionNames: Record<string, MessageKey> = {
  read: 'tokens.action.read',
  write: 'tokens.action.write',
  publish: 'tokens.action.publish',
  approve: 'tokens.action.approve',
}

/** Scopes ("obj:act") grouped by object, in the order the API gave them. */
export function groupScopes(scopes: string[]): [string, string[]][] {
  const groups = new Map<string, string[]>()
  for (const scope of scopes) {
    const [object] = scope.split(':')
    groups.set(object, [...(groups.get(object) ?? []), scope])
  }
  return [...groups.entries()]
}

/** When a token made now with this choice expires, or undefined for "until revoked". */
export function expiresAt(choice: Expiry, now = new Date()): string | undefined {
  if (choice === 'none') return undefined
  return new Date(now.getTime() + Number(choice) * 24 * 60 * 60 * 1000).toISOString()
}

// API tokens of machine clients: the tenant admin lists, creates and revokes them. The token
// string is shown once, right after creation.
export function TokensPage() {
  const { t } = useI18n()
  const { slug } = useTenant()
  const [created, setCreated] = useState<ApiTokenCreated>()
  const [revoked, setRevoked] = useState<string>()
  const list = useApi(
    () => unwrap(api.GET('/api/v1/tenants/{tenant}/tokens', { params: { path: { tenant: slug } } })),
    [slug],
  )

  return (
    <>
      <PageHeading>{t('tokens.title')}</PageHeading>
      <p>{t('tokens.intro')}</p>
      {created && <CreatedToken created={created} onDone={() => setCreated(undefined)} />}
      {revoked && <Message color="success">{t('tokens.revoked', { name: revoked })}</Message>}
      <Loaded state={list}>
        {(data) => (
          <>
            <TokenTable
              slug={slug}
              items={data.items}
              onRevoked={(token) => {
                setRevoked(token.name)
                list.reload()
              }}
            />
            <CreateTokenForm
              slug={slug}
              grantable={data.grantableScopes}
              onCreated={(result) => {
                setRevoked(undefined)
                setCreated(result)
                list.reload()
              }}
            />
          </>
        )}
      </Loaded>
    </>
  )
}

function CreatedToken({ created, onDone }: { created: ApiTokenCreated; onDone: () => void }) {
  const { t } = useI18n()
  const [copy, setCopy] = useState<'copied' | 'failed'>()
  const fieldRef = useRef<HTMLInputElement>(null)

  // The one moment the secret exists outside the client's hands: put the user right there.
  useEffect(() => {
    fieldRef.current?.focus()
    fieldRef.current?.select()
  }, [created])

  const copyToken = async () => {
    try {
      await navigator.clipboard.writeText(created.secret)
      setCopy('copied')
    } catch {
      setCopy('failed')
      fieldRef.current?.select()
    }
  }

  return (
    <section className="epom-token-secret" aria-labelledby="token-secret-title">
      <Message color="success">
        <p id="token-secret-title" className="epom-message-title">
          {t('tokens.created', { name: created.token.name })}
        </p>
        <p>
          <strong>{t('tokens.secretWarning')}</strong>
        </p>
        <p>
          <label htmlFor="token-secret">{t('tokens.secretLabel')}</label>
          <input
            id="token-secret"
            ref={fieldRef}
            className="epom-token-secret__value"
            readOnly
            value={created.secret}
            spellCheck={false}
            autoComplete="off"
          />
        </p>
        <p>
          <Button type="solid" color="primary" size="s" onClick={copyToken}>
            {t('tokens.copy')}
          </Button>{' '}
          <Button type="outlined" color="primary" size="s" onClick={onDone}>
            {t('tokens.done')}
          </Button>
        </p>
        <p role="status">{copy === 'copied' ? t('tokens.copied') : copy === 'failed' ? t('tokens.copyFailed') : ''}</p>
      </Message>
    </section>
  )
}

function TokenTable({ slug, items, onRevoked }: { slug: string; items: ApiToken[]; onRevoked: (t: ApiToken) => void }) {
  const { t, formatDateTime } = useI18n()
  const [confirming, setConfirming] = useState<string>()
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>()
  const confirmRef = useRef<HTMLButtonElement>(null)

  useEffect(() => {
    if (confirming) confirmRef.current?.focus()
  }, [confirming])

  if (items.length === 0) return <p>{t('tokens.empty')}</p>

  const revoke = async (token: ApiToken) => {
    setBusy(true)
    setError(undefined)
    try {
      await unwrap(
        api.POST('/api/v1/tenants/{tenant}/tokens/{tokenId}/revoke', {
          params: { path: { tenant: slug, tokenId: token.id } },
        }),
      )
      setConfirming(undefined)
      onRevoked(token)
    } catch (err) {
      setError(err)
    } finally {
      setBusy(false)
    }
  }

  return (
    <>
      {error !== undefined && <ErrorMessage error={error} />}
      <div className="epom-table-wrap">
        <table className="epom-table">
          <caption>{t('tokens.caption')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('tokens.col.name')}</th>
              <th scope="col">{t('tokens.col.scopes')}</th>
              <th scope="col">{t('tokens.col.created')}</th>
              <th scope="col">{t('tokens.col.expires')}</th>
              <th scope="col">{t('tokens.col.lastUsed')}</th>
              <th scope="col">{t('tokens.col.status')}</th>
              <th scope="col">{t('tokens.col.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((token) => (
              <tr key={token.id}>
                <th scope="row">{token.name}</th>
                <td>
                  {token.scopes.map((scope) => (
                    <code key={scope} className="epom-scope">
                      {scope}
                    </code>
                  ))}
                </td>
                <td>
                  {token.createdByEmail
                    ? t('tokens.createdBy', { date: formatDateTime(token.createdAt), who: token.createdByEmail })
                    : formatDateTime(token.createdAt)}
                </td>
                <td>{token.expiresAt ? formatDateTime(token.expiresAt) : t('tokens.noExpiry')}</td>
                <td>
                  {token.lastUsedAt
                    ? `${formatDateTime(token.lastUsedAt)}${token.lastUsedIp ? ` (${token.lastUsedIp})` : ''}`
                    : t('tokens.never')}
                </td>
                <td>{t(statusNames[token.status])}</td>
                <td>
                  {token.status !== 'active' ? (
                    '—'
                  ) : confirming === token.id ? (
                    <div role="group" aria-label={t('tokens.revokeLabel', { name: token.name })}>
                      <p>{t('tokens.confirm', { name: token.name })}</p>
                      <Button
                        ref={confirmRef}
                        type="solid"
                        color="error"
                        size="s"
                        disabled={busy}
                        onClick={() => revoke(token)}
                      >
                        {t('tokens.confirmYes')}
                      </Button>{' '}
                      <Button type="outlined" color="primary" size="s" onClick={() => setConfirming(undefined)}>
                        {t('tokens.confirmNo')}
                      </Button>
                    </div>
                  ) : (
                    <Button
                      type="outlined"
                      color="error"
                      size="s"
                      aria-label={t('tokens.revokeLabel', { name: token.name })}
                      onClick={() => setConfirming(token.id)}
                    >
                      {t('tokens.revoke')}
                    </Button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  )
}

type Errors = { name?: string; scopes?: string; expiresAt?: string }

function CreateTokenForm({
  slug,
  grantable,
  onCreated,
}: {
  slug: string
  grantable: string[]
  onCreated: (created: ApiTokenCreated) => void
}) {
  const { t } = useI18n()
  const [name, setName] = useState('')
  const [expiry, setExpiry] = useState<Expiry>('90')
  const [scopes, setScopes] = useState<string[]>([])
  const [errors, setErrors] = useState<Errors>({})
  const [failed, setFailed] = useState<unknown>()
  const [invalid, setInvalid] = useState(false)
  const [saving, setSaving] = useState(false)
  const formRef = useRef<HTMLFormElement>(null)

  useEffect(() => {
    if (invalid) focusFirstInvalid(formRef.current)
  }, [invalid, errors])

  const toggle = (scope: string, on: boolean) =>
    setScopes((current) => (on ? [...current, scope] : current.filter((s) => s !== scope)))

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setFailed(undefined)
    setInvalid(false)
    const local: Errors = {}
    if (!name.trim()) local.name = t('tokens.nameHint')
    if (scopes.length === 0) local.scopes = t('tokens.scopesRequired')
    if (Object.keys(local).length > 0) {
      setErrors(local)
      setInvalid(true)
      return
    }
    setSaving(true)
    try {
      const result = await unwrap(
        api.POST('/api/v1/tenants/{tenant}/tokens', {
          params: { path: { tenant: slug } },
          body: { name: name.trim(), scopes: grantable.filter((s) => scopes.includes(s)), expiresAt: expiresAt(expiry) },
        }),
      )
      setName('')
      setScopes([])
      setErrors({})
      onCreated(result)
    } catch (error) {
      const byField = isApiError(error) ? error.fieldErrors() : {}
      const fieldErrors: Errors = { name: byField.name, scopes: byField.scopes, expiresAt: byField.expiresAt }
      if (Object.values(fieldErrors).some(Boolean)) {
        setErrors(fieldErrors)
        setInvalid(true)
      } else {
        setFailed(error)
      }
    } finally {
      setSaving(false)
    }
  }

  return (
    <section aria-labelledby="token-create-title">
      <h2 id="token-create-title">{t('tokens.create')}</h2>
      {grantable.length === 0 ? (
        <p>{t('tokens.noScopes')}</p>
      ) : (
        <form ref={formRef} className="epom-form" onSubmit={submit} noValidate>
          {invalid && <Message color="error">{t('tokens.invalid')}</Message>}
          {failed !== undefined && <ErrorMessage error={failed} />}
          <TextField
            id="token-name"
            label={t('tokens.name')}
            required
            maxLength={100}
            hint={t('tokens.nameHint')}
            error={errors.name}
            value={name}
            onChange={(event) => setName(event.target.value)}
          />
          <fieldset className="epom-fieldset" aria-describedby={errors.expiresAt ? 'token-expiry-error' : undefined}>
            <legend>{t('tokens.expiry')}</legend>
            {expiryChoices.map((choice) => (
              <label key={choice} className="epom-choice">
                <input
                  type="radio"
                  name="token-expiry"
                  value={choice}
                  checked={expiry === choice}
                  onChange={() => setExpiry(choice)}
                />{' '}
                {t(`tokens.expiry.${choice}`)}
              </label>
            ))}
            {errors.expiresAt && (
              <p id="token-expiry-error" className="epom-field-error">
                {errors.expiresAt}
              </p>
            )}
          </fieldset>
          <fieldset
            className="epom-fieldset"
            aria-describedby={errors.scopes ? 'token-scopes-hint token-scopes-error' : 'token-scopes-hint'}
          >
            <legend>{t('tokens.scopes')}</legend>
            <p id="token-scopes-hint" className="epom-muted">
              {t('tokens.scopesHint')}
            </p>
            {groupScopes(grantable).map(([object, objectScopes]) => (
              <fieldset key={object} className="epom-fieldset epom-fieldset--nested">
                <legend>{objectNames[object] ? t(objectNames[object]) : object}</legend>
                {objectScopes.map((scope) => {
                  const action = scope.split(':')[1]
                  return (
                    <label key={scope} className="epom-choice">
                      <input
                        type="checkbox"
                        value={scope}
                        checked={scopes.includes(scope)}
                        aria-invalid={errors.scopes ? true : undefined}
                        onChange={(event) => toggle(scope, event.target.checked)}
                      />{' '}
                      {actionNames[action] ? t(actionNames[action]) : action} <code>{scope}</code>
                    </label>
                  )
                })}
              </fieldset>
            ))}
            {errors.scopes && (
              <p id="token-scopes-error" className="epom-field-error">
                {errors.scopes}
              </p>
            )}
          </fieldset>
          <Button type="solid" color="primary" nativeType="submit" disabled={saving}>
            {saving ? t('tokens.creating') : t('tokens.submit')}
          </Button>
        </form>
      )}
    </section>
  )
}
