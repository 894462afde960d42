import { GovFormCheckbox, GovFormLabel, GovFormMessage } from '@gov-design-system-ce/react'
import { useState, type FormEvent } from 'react'
import { api, isApiError, unwrap, type Member } from '../api/client'
import type { components } from '../api/schema'
import { Button } from '../components/Button'
import { Dialog } from '../components/Dialog'
import { useFocusInvalid } from '../components/focusInvalid'
import { ErrorMessage } from '../components/ErrorMessage'
import { TextAreaField, TextField } from '../components/FormField'
import { Loaded } from '../components/Loaded'
import { Message } from '../components/Message'
import { PageHeading } from '../components/PageHeading'
import { useI18n } from '../i18n/I18nProvider'
import type { MessageKey } from '../i18n/messages'
import { useApi } from '../lib/useApi'
import { hasAnyRole } from '../session/roles'
import { useSession } from '../session/SessionProvider'
import { useTenant } from '../tenant/TenantProvider'

type Invitation = components['schemas']['Invitation']
type TenantRole = components['schemas']['TenantRole']

/** The roles a municipality assigns, in the order the API and the forms list them. */
export const tenantRoles: TenantRole[] = ['tenant-admin', 'clerk', 'auditor']

// Kernel roles have translated names; roles that modules define are shown as the API spells them.
const roleNames: Record<string, MessageKey> = {
  'tenant-admin': 'role.tenant-admin',
  clerk: 'role.clerk',
  auditor: 'role.auditor',
}

export function useRoleName() {
  const { t } = useI18n()
  return (role: string) => (role in roleNames ? t(roleNames[role]) : role)
}

export function MembersPage() {
  const { t } = useI18n()
  const { slug, membership } = useTenant()
  // Auditors see the same lists, without the controls.
  const canEdit = hasAnyRole(membership, ['tenant-admin'])
  const [notice, setNotice] = useState<string>()
  const members = useApi(
    () => unwrap(api.GET('/api/v1/tenants/{tenant}/members', { params: { path: { tenant: slug } } })),
    [slug],
  )
  const invitations = useApi(
    () => unwrap(api.GET('/api/v1/tenants/{tenant}/invitations', { params: { path: { tenant: slug } } })),
    [slug],
  )
  const changed = (message: string) => {
    setNotice(message)
    members.reload()
    invitations.reload()
  }

  return (
    <>
      <PageHeading>{t('members.title')}</PageHeading>
      {notice && <Message color="success">{notice}</Message>}
      <Loaded
        state={members}
        isEmpty={(data) => data.items.length === 0}
        empty={<p>{t('members.empty')}</p>}
      >
        {(data) => <MembersTable slug={slug} members={data.items} canEdit={canEdit} onChanged={changed} />}
      </Loaded>

      <section aria-labelledby="invitations-heading">
        <h2 id="invitations-heading">{t('members.invitations')}</h2>
        <Loaded
          state={invitations}
          isEmpty={(data) => data.items.length === 0}
          empty={<p>{t('members.noInvitations')}</p>}
        >
          {(data) => (
            <InvitationsTable slug={slug} invitations={data.items} canEdit={canEdit} onChanged={changed} />
          )}
        </Loaded>
      </section>

      {canEdit && (
        <section aria-labelledby="invite-heading">
          <h2 id="invite-heading">{t('members.invite')}</h2>
          <InviteForm slug={slug} onInvited={(email) => changed(t('members.invited', { email }))} />
        </section>
      )}
    </>
  )
}

type Dialog = { kind: 'roles'; member: Member } | { kind: 'remove'; member: Member } | { kind: 'mfa'; member: Member }

function MembersTable({
  slug,
  members,
  canEdit,
  onChanged,
}: {
  slug: string
  members: Member[]
  canEdit: boolean
  onChanged: (message: string) => void
}) {
  const { t } = useI18n()
  const roleName = useRoleName()
  const { me } = useSession()
  const [dialog, setDialog] = useState<Dialog>()
  const close = () => setDialog(undefined)
  const saved = (message: string) => {
    setDialog(undefined)
    onChanged(message)
  }

  return (
    <div className="epom-table-wrap">
      <table className="epom-table">
        <caption>{t('members.caption')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('members.name')}</th>
            <th scope="col">{t('members.email')}</th>
            <th scope="col">{t('members.roles')}</th>
            {canEdit && <th scope="col">{t('members.actions')}</th>}
          </tr>
        </thead>
        <tbody>
          {members.map((member) => (
            <tr key={member.userId}>
              <th scope="row">{member.name}</th>
              <td>
                <a href={`mailto:${member.email}`}>{member.email}</a>
              </td>
              <td>{member.roles.map(roleName).join(', ')}</td>
              {canEdit && (
                <td>
                  <span className="epom-actions">
                    <Button
                      type="outlined"
                      color="primary"
                      size="s"
                      aria-label={t('members.editRolesOf', { name: member.name })}
                      onClick={() => setDialog({ kind: 'roles', member })}
                    >
                      {t('members.editRoles')}
                    </Button>
                    <Button
                      type="outlined"
                      color="error"
                      size="s"
                      aria-label={t('members.removeMember', { name: member.name })}
                      onClick={() => setDialog({ kind: 'remove', member })}
                    >
                      {t('members.remove')}
                    </Button>
                    {/* One's own second factor is reset with a recovery code, not here. */}
                    {member.userId !== me?.id && (
                      <Button
                        type="outlined"
                        color="primary"
                        size="s"
                        aria-label={t('members.mfaResetOf', { name: member.name })}
                        onClick={() => setDialog({ kind: 'mfa', member })}
                      >
                        {t('members.mfaReset')}
                      </Button>
                    )}
                  </span>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {dialog?.kind === 'mfa' && <MfaResetDialog slug={slug} member={dialog.member} onClose={close} onSaved={saved} />}
      {dialog && dialog.kind !== 'mfa' && (
        <RolesDialog
          slug={slug}
          member={dialog.member}
          removing={dialog.kind === 'remove'}
          onClose={close}
          onSaved={saved}
        />
      )}
    </div>
  )
}

/** Role checkboxes in a fieldset; the legend names the group for screen readers. */
function RoleCheckboxes({
  idPrefix,
  selected,
  onChange,
  error,
}: {
  idPrefix: string
  selected: TenantRole[]
  onChange: (roles: TenantRole[]) => void
  error?: string
}) {
  const { t } = useI18n()
  const roleName = useRoleName()
  const errorId = `${idPrefix}-error`
  return (
    <fieldset className="epom-fieldset-plain" aria-describedby={error ? errorId : undefined}>
      <legend>{t('members.roles')}</legend>
      {tenantRoles.map((role) => (
        <GovFormCheckbox
          key={role}
          identifier={`${idPrefix}-${role}`}
          size="m"
          checked={selected.includes(role)}
          invalid={!!error}
          onChange={(event) =>
            onChange(
              event.target.checked
                ? tenantRoles.filter((r) => r === role || selected.includes(r))
                : selected.filter((r) => r !== role),
            )
          }
        >
          <GovFormLabel size="m">{roleName(role)}</GovFormLabel>
        </GovFormCheckbox>
      ))}
      {error && (
        <GovFormMessage size="m" color="error" identifier={errorId}>
          {error}
        </GovFormMessage>
      )}
    </fieldset>
  )
}

function RolesDialog({
  slug,
  member,
  removing,
  onClose,
  onSaved,
}: {
  slug: string
  member: Member
  removing: boolean
  onClose: () => void
  onSaved: (message: string) => void
}) {
  const { t } = useI18n()
  const { expire } = useSession()
  const [roles, setRoles] = useState<TenantRole[]>(() => tenantRoles.filter((r) => member.roles.includes(r)))
  const [saving, setSaving] = useState(false)
  const [error, setError] = useState<unknown>()

  const save = async (event: FormEvent) => {
    event.preventDefault()
    setSaving(true)
    setError(undefined)
    const next = removing ? [] : roles
    try {
      await unwrap(
        api.PUT('/api/v1/tenants/{tenant}/members/{userId}/roles', {
          params: { path: { tenant: slug, userId: member.userId } },
          body: { roles: next },
        }),
      )
      onSaved(t(next.length === 0 ? 'members.removed' : 'members.rolesSaved', { name: member.name }))
    } catch (failure) {
      if (isApiError(failure, 401)) expire()
      setError(failure)
      setSaving(false)
    }
  }

  const title = removing ? t('members.removeTitle', { name: member.name }) : t('members.rolesTitle', { name: member.name })
  return (
    <Dialog title={<h2>{title}</h2>} onClose={onClose} closeLabel={t('members.close')}>
      <form className="epom-form" onSubmit={save} noValidate>
        {error !== undefined && <ErrorMessage error={error} />}
        {removing ? (
          <p>{t('members.removeConfirm', { name: member.name, email: member.email })}</p>
        ) : (
          <>
            <RoleCheckboxes idPrefix="edit-role" selected={roles} onChange={setRoles} />
            {roles.length === 0 && <p className="epom-muted">{t('members.noRolesRemoves')}</p>}
          </>
        )}
        <span className="epom-actions">
          <Button type="solid" color={removing ? 'error' : 'primary'} nativeType="submit" disabled={saving}>
            {saving ? t('members.saving') : removing ? t('members.remove') : t('members.saveRoles')}
          </Button>
          <Button type="outlined" color="primary" onClick={onClose}>
            {t('members.cancel')}
          </Button>
        </span>
      </form>
    </Dialog>
  )
}

// The refusals of a reset that the dialog explains in its own words; others show the problem.
const mfaResetRefusals: Record<string, MessageKey> = {
  '/problems/mfa-reset-elsewhere': 'members.mfaResetElsewhere',
  '/problems/mfa-reset-self': 'members.mfaResetSelf',
  '/problems/not-found': 'members.mfaResetNotFound',
}

/** Resets a member's lost second factor, after the admin gives a reason */
function MfaResetDialog({
  slug,
  member,
  onClose,
  onSaved,
}: {
  slug: string
  member: Member
  onClose: () => void
  onSaved: (message: string) => void
}) {
  const { t, lang } = useI18n()
  const { expire } = useSession()
  const [reason, setReason] = useState('')
  const [reasonError, setReasonError] = useState<string>()
  const [failure, setFailure] = useState<unknown>()
  const [saving, setSaving] = useState(false)
  // Take the user to the first field the API (or the form) rejected.
  const { formRef, refused } = useFocusInvalid()

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setFailure(undefined)
    if (reason.trim().length < 3) {
      setReasonError(t('members.mfaReasonShort'))
      refused()
      return
    }
    setReasonError(undefined)
    setSaving(true)
    try {
      await unwrap(
        api.POST('/api/v1/tenants/{tenant}/members/{userId}/mfa-reset', {
          params: { path: { tenant: slug, userId: member.userId } },
          body: { reason: reason.trim(), lang: lang === 'en' ? 'en' : 'cs' },
        }),
      )
      onSaved(t('members.mfaResetDone', { name: member.name }))
    } catch (error) {
      if (isApiError(error, 401)) expire()
      const field = isApiError(error) ? error.fieldErrors().reason : undefined
      if (field) {
        setReasonError(field)
        refused()
      } else {
        setFailure(error)
      }
      setSaving(false)
    }
  }

  const refusal = isApiError(failure) ? mfaResetRefusals[failure.problem.type] : undefined
  return (
    <Dialog
      title={<h2>{t('members.mfaResetTitle', { name: member.name })}</h2>}
      onClose={onClose}
      closeLabel={t('members.close')}
    >
      <form ref={formRef} className="epom-form" onSubmit={submit} noValidate>
        {refusal ? (
          <Message color="error">{t(refusal)}</Message>
        ) : (
          failure !== undefined && <ErrorMessage error={failure} />
        )}
        <p>{t('members.mfaResetExplain', { name: member.name, email: member.email })}</p>
        <p>{t('members.mfaResetVerify')}</p>
        <TextAreaField
          id="mfa-reset-reason"
          label={t('members.mfaReason')}
          hint={t('members.mfaReasonHint')}
          required
          maxLength={500}
          rows={3}
          value={reason}
          error={reasonError}
          onChange={(event) => setReason(event.target.value)}
        />
        <span className="epom-actions">
          <Button type="solid" color="error" nativeType="submit" disabled={saving}>
            {saving ? t('members.mfaResetting') : t('members.mfaResetSubmit')}
          </Button>
          <Button type="outlined" color="primary" onClick={onClose}>
            {t('members.cancel')}
          </Button>
        </span>
      </form>
    </Dialog>
  )
}

function InvitationsTable({
  slug,
  invitations,
  canEdit,
  onChanged,
}: {
  slug: string
  invitations: Invitation[]
  canEdit: boolean
  onChanged: (message: string) => void
}) {
  const { t, formatDateTime } = useI18n()
  const { expire } = useSession()
  const roleName = useRoleName()
  const [busy, setBusy] = useState<string>()
  const [error, setError] = useState<unknown>()

  const act = async (invitation: Invitation, action: 'resend' | 'revoke') => {
    setBusy(invitation.id)
    setError(undefined)
    try {
      if (action === 'resend') {
        await unwrap(
          api.POST('/api/v1/tenants/{tenant}/invitations', {
            params: { path: { tenant: slug } },
            body: { email: invitation.email, name: invitation.name || undefined, roles: invitation.roles as TenantRole[] },
          }),
        )
        onChanged(t('members.invited', { email: invitation.email }))
      } else {
        await unwrap(
          api.DELETE('/api/v1/tenants/{tenant}/invitations/{invitationId}', {
            params: { path: { tenant: slug, invitationId: invitation.id } },
          }),
        )
        onChanged(t('members.invitationRevoked', { email: invitation.email }))
      }
    } catch (failure) {
      if (isApiError(failure, 401)) expire()
      setError(failure)
    } finally {
      setBusy(undefined)
    }
  }

  return (
    <>
      {error !== undefined && <ErrorMessage error={error} />}
      <div className="epom-table-wrap">
        <table className="epom-table">
          <caption>{t('members.invitationsCaption')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('members.email')}</th>
              <th scope="col">{t('members.name')}</th>
              <th scope="col">{t('members.roles')}</th>
              <th scope="col">{t('members.validUntil')}</th>
              {canEdit && <th scope="col">{t('members.actions')}</th>}
            </tr>
          </thead>
          <tbody>
            {invitations.map((invitation) => (
              <tr key={invitation.id}>
                <th scope="row">{invitation.email}</th>
                <td>{invitation.name}</td>
                <td>{invitation.roles.map(roleName).join(', ')}</td>
                <td>
                  {invitation.status === 'expired'
                    ? t('members.expired')
                    : formatDateTime(invitation.expiresAt)}
                </td>
                {canEdit && (
                  <td>
                    <span className="epom-actions">
                      <Button
                        type="outlined"
                        color="primary"
                        size="s"
                        disabled={busy === invitation.id}
                        aria-label={t('members.resendTo', { email: invitation.email })}
                        onClick={() => act(invitation, 'resend')}
                      >
                        {t('members.resend')}
                      </Button>
                      <Button
                        type="outlined"
                        color="error"
                        size="s"
                        disabled={busy === invitation.id}
                        aria-label={t('members.revokeFor', { email: invitation.email })}
                        onClick={() => act(invitation, 'revoke')}
                      >
                        {t('members.revoke')}
                      </Button>
                    </span>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  )
}

type InviteErrors = Partial<Record<'email' | 'name' | 'roles', string>>

function InviteForm({ slug, onInvited }: { slug: string; onInvited: (email: string) => void }) {
  const { t, lang } = useI18n()
  const { expire } = useSession()
  const [email, setEmail] = useState('')
  const [name, setName] = useState('')
  const [roles, setRoles] = useState<TenantRole[]>(['clerk'])
  const [errors, setErrors] = useState<InviteErrors>({})
  const [failure, setFailure] = useState<unknown>()
  const [sending, setSending] = useState(false)
  // Take the user to the first field the API (or the form) rejected.
  const { formRef, refused } = useFocusInvalid()

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setFailure(undefined)
    if (roles.length === 0) {
      setErrors({ roles: t('members.chooseRole') })
      refused()
      return
    }
    setSending(true)
    try {
      const invitation = await unwrap(
        api.POST('/api/v1/tenants/{tenant}/invitations', {
          params: { path: { tenant: slug } },
          body: { email: email.trim(), name: name.trim() || undefined, roles, lang: lang === 'en' ? 'en' : 'cs' },
        }),
      )
      setEmail('')
      setName('')
      setRoles(['clerk'])
      setErrors({})
      onInvited(invitation.email)
    } catch (error) {
      if (isApiError(error, 401)) expire()
      const byField = isApiError(error) ? error.fieldErrors() : {}
      const fields: InviteErrors = { email: byField.email, name: byField.name, roles: byField.roles }
      setErrors(fields)
      if (!fields.email && !fields.name && !fields.roles) setFailure(error)
      refused()
    } finally {
      setSending(false)
    }
  }

  return (
    <form ref={formRef} className="epom-form" onSubmit={submit} noValidate>
      <p>{t('members.inviteIntro')}</p>
      {failure !== undefined && <ErrorMessage error={failure} />}
      <TextField
        id="invite-email"
        label={t('members.email')}
        type="email"
        autoComplete="off"
        required
        value={email}
        error={errors.email}
        onChange={(event) => setEmail(event.target.value)}
      />
      <TextField
        id="invite-name"
        label={t('members.name')}
        autoComplete="off"
        value={name}
        error={errors.name}
        onChange={(event) => setName(event.target.value)}
      />
      <RoleCheckboxes idPrefix="invite-role" selected={roles} onChange={setRoles} error={errors.roles} />
      <Button type="solid" color="primary" nativeType="submit" disabled={sending}>
        {sending ? t('members.sending') : t('members.inviteSubmit')}
      </Button>
    </form>
  )
}
