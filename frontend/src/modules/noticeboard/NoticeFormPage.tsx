import { useEffect, useRef, useState, type FormEvent } from 'react'
import { Link, useNavigate, useParams } from 'react-router'
import { api, isApiError, unwrap } from '../../api/client'
import { Button } from '../../components/Button'
import { ErrorMessage } from '../../components/ErrorMessage'
import { TextAreaField, TextField } from '../../components/FormField'
import { Loaded } from '../../components/Loaded'
import { Message } from '../../components/Message'
import { PageHeading } from '../../components/PageHeading'
import { useI18n } from '../../i18n/I18nProvider'
import { useApi } from '../../lib/useApi'
import { useTenant } from '../../tenant/TenantProvider'
import { SelectField } from './SelectField'
import {
  boardPath,
  categories,
  categoryKey,
  fromLocalInput,
  toLocalInput,
  type Notice,
  type NoticeCategory,
  type NoticeInput,
} from './labels'
import { focusFirstInvalid } from '../../components/focusInvalid'

const fields = [
  'title',
  'body',
  'category',
  'origin',
  'originName',
  'referenceNumber',
  'fileMark',
  'postingAt',
  'relevantUntil',
  'note',
] as const
type Field = (typeof fields)[number]
type Values = Record<Field, string>

function toValues(n?: Notice): Values {
  return {
    title: n?.title ?? '',
    body: n?.body ?? '',
    category: n?.category ?? 'ostatni',
    origin: n?.origin ?? 'own',
    originName: n?.originName ?? '',
    referenceNumber: n?.referenceNumber ?? '',
    fileMark: n?.fileMark ?? '',
    postingAt: toLocalInput(n?.postingAt),
    relevantUntil: toLocalInput(n?.relevantUntil),
    note: '',
  }
}

function toInput(v: Values): NoticeInput {
  const optional = (s: string) => s.trim() || undefined
  return {
    title: v.title,
    body: v.body,
    category: v.category as NoticeCategory,
    origin: v.origin as 'own' | 'other',
    originName: v.origin === 'other' ? v.originName : undefined,
    referenceNumber: optional(v.referenceNumber),
    fileMark: optional(v.fileMark),
    postingAt: fromLocalInput(v.postingAt),
    relevantUntil: fromLocalInput(v.relevantUntil),
    note: optional(v.note),
  }
}

/** New notice (no :noticeId) or editing one. */
export function NoticeFormPage() {
  const { noticeId } = useParams()
  const { slug } = useTenant()
  const { t } = useI18n()
  const existing = useApi(
    () =>
      noticeId
        ? unwrap(
            api.GET('/api/v1/tenants/{tenant}/noticeboard/notices/{noticeId}', {
              params: { path: { tenant: slug, noticeId } },
            }),
          )
        : Promise.resolve(null),
    [slug, noticeId],
  )
  return (
    <>
      <PageHeading>{noticeId ? t('nb.editTitle') : t('nb.new')}</PageHeading>
      <Loaded state={existing}>{(n) => <NoticeForm slug={slug} notice={n ?? undefined} />}</Loaded>
    </>
  )
}

function NoticeForm({ slug, notice }: { slug: string; notice?: Notice }) {
  const { t } = useI18n()
  const navigate = useNavigate()
  const [values, setValues] = useState(() => toValues(notice))
  const [errors, setErrors] = useState<Partial<Values>>({})
  const [failure, setFailure] = useState<unknown>()
  const [invalid, setInvalid] = useState(false)
  const [saving, setSaving] = useState(false)
  const formRef = useRef<HTMLFormElement>(null)
  const posted = notice?.state === 'posted'

  useEffect(() => {
    if (invalid) focusFirstInvalid(formRef.current)
  }, [invalid, errors])

  const save = async (event: FormEvent) => {
    event.preventDefault()
    setSaving(true)
    setFailure(undefined)
    setInvalid(false)
    try {
      const body = toInput(values)
      const saved = notice
        ? await unwrap(
            api.PUT('/api/v1/tenants/{tenant}/noticeboard/notices/{noticeId}', {
              params: { path: { tenant: slug, noticeId: notice.id } },
              body,
            }),
          )
        : await unwrap(
            api.POST('/api/v1/tenants/{tenant}/noticeboard/notices', { params: { path: { tenant: slug } }, body }),
          )
      navigate(`${boardPath(slug)}/${saved.id}`)
    } catch (error) {
      const byField = isApiError(error) ? error.fieldErrors() : {}
      const mine = Object.fromEntries(fields.filter((f) => byField[f]).map((f) => [f, byField[f]]))
      setErrors(mine)
      if (Object.keys(mine).length > 0) setInvalid(true)
      else setFailure(error)
    } finally {
      setSaving(false)
    }
  }

  const field = (name: Field) => ({
    id: `nb-${name}`,
    name,
    label: t(`nb.field.${name}` as Parameters<typeof t>[0]),
    value: values[name],
    error: errors[name],
    onChange: (e: { target: { value: string } }) => setValues((v) => ({ ...v, [name]: e.target.value })),
  })
  const select = (name: Field) => ({
    id: `nb-${name}`,
    label: t(`nb.field.${name}` as Parameters<typeof t>[0]),
    value: values[name],
    error: errors[name],
    onChange: (value: string) => setValues((v) => ({ ...v, [name]: value })),
  })

  return (
    <form ref={formRef} className="epom-form" onSubmit={save} noValidate>
      {invalid && <Message color="error">{t('nb.invalid')}</Message>}
      {failure !== undefined && <ErrorMessage error={failure} />}
      <TextField {...field('title')} required maxLength={300} />
      <TextAreaField {...field('body')} rows={8} hint={t('nb.field.bodyHint')} />
      <SelectField {...select('category')} required>
        {categories.map((c) => (
          <option key={c} value={c}>
            {t(categoryKey(c))}
          </option>
        ))}
      </SelectField>
      <SelectField {...select('origin')}>
        <option value="own">{t('nb.origin.own')}</option>
        <option value="other">{t('nb.origin.other')}</option>
      </SelectField>
      {values.origin === 'other' && <TextField {...field('originName')} required />}
      <TextField {...field('referenceNumber')} />
      <TextField {...field('fileMark')} />
      {!posted && <TextField {...field('postingAt')} type="datetime-local" hint={t('nb.field.postingAtHint')} />}
      <TextField {...field('relevantUntil')} type="datetime-local" hint={t('nb.field.relevantUntilHint')} />
      {posted && <TextField {...field('note')} hint={t('nb.field.noteHint')} />}
      <p className="epom-actions">
        <Button type="solid" color="primary" nativeType="submit" disabled={saving}>
          {saving ? t('nb.saving') : t('nb.save')}
        </Button>{' '}
        <Link to={notice ? `${boardPath(slug)}/${notice.id}` : boardPath(slug)}>{t('nb.cancel')}</Link>
      </p>
    </form>
  )
}
