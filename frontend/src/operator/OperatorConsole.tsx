import { GovFormLabel, GovFormSelect } from '@gov-design-system-ce/react'
import { useEffect, useRef, useState, type FormEvent } from 'react'
import { Link, useParams, useSearchParams } from 'react-router'
import { api, isApiError, unwrap, type ModuleInfo, type OperatorMunicipality } from '../api/client'
import { Button } from '../components/Button'
import { ErrorMessage } from '../components/ErrorMessage'
import { TextField } from '../components/FormField'
import { Loading } from '../components/Loading'
import { Message } from '../components/Message'
import { PageHeading } from '../components/PageHeading'
import { useI18n } from '../i18n/I18nProvider'
import { useApi } from '../lib/useApi'
import { useSession } from '../session/SessionProvider'
import { krajName } from './kraje'
import { ModuleChecklist } from './ModuleChecklist'
import { OperatorNav } from './OperatorNav'
import { focusFirstInvalid } from '../components/focusInvalid'

const pageSize = 50
const filters = ['none', 'active', 'suspended', 'pending', 'closed'] as const
type Filter = (typeof filters)[number]

/** The kraj's municipalities from the catalogue, their tenant status, and onboarding. */
export function OperatorConsole() {
  const { t } = useI18n()
  const { kraj = '' } = useParams()
  const [params, setParams] = useSearchParams()
  const q = params.get('q') ?? ''
  const status = filters.find((f) => f === params.get('stav'))
  const page = Math.max(1, Number(params.get('strana')) || 1)
  const offset = (page - 1) * pageSize
  const [search, setSearch] = useState(q)
  const [onboarding, setOnboarding] = useState<OperatorMunicipality>()
  const [notice, setNotice] = useState<string>()

  const { data, error, loading, reload } = useApi(
    () =>
      unwrap(
        api.GET('/api/v1/operator/{kraj}/municipalities', {
          params: { path: { kraj }, query: { q: q || undefined, status, limit: pageSize, offset } },
        }),
      ),
    [kraj, q, status, offset],
  )
  const modules = useApi(() => unwrap(api.GET('/api/v1/modules')), [])

  const show = (next: { q?: string; stav?: Filter; strana?: number }) => {
    const query: Record<string, string> = {}
    if (next.q) query.q = next.q
    if (next.stav) query.stav = next.stav
    if (next.strana && next.strana > 1) query.strana = String(next.strana)
    setParams(query)
  }

  return (
    <>
      <PageHeading>{t('operator.title', { kraj: krajName(kraj) })}</PageHeading>
      <OperatorNav kraj={kraj} />
      <form
        className="epom-filter"
        role="search"
        onSubmit={(event) => {
          event.preventDefault()
          show({ q: search.trim(), stav: status })
        }}
      >
        <TextField
          id="operator-q"
          label={t('operator.search')}
          hint={t('operator.searchHint')}
          type="search"
          value={search}
          onChange={(event) => setSearch(event.target.value)}
        />
        <div>
          <GovFormLabel identifier="operator-status" size="m">
            {t('operator.statusFilter')}
          </GovFormLabel>
          <GovFormSelect
            identifier="operator-status"
            size="m"
            value={status ?? ''}
            onChange={(event) => show({ q, stav: filters.find((f) => f === event.target.value) })}
          >
            <option value="">{t('operator.allStatuses')}</option>
            {filters.map((f) => (
              <option key={f} value={f}>
                {t(`operator.filter.${f}`)}
              </option>
            ))}
          </GovFormSelect>
        </div>
        <Button type="solid" color="primary" nativeType="submit">
          {t('operator.searchButton')}
        </Button>
      </form>

      {notice && <Message color="success">{notice}</Message>}
      {onboarding && (
        <OnboardPanel
          kraj={kraj}
          municipality={onboarding}
          modules={modules.data?.items ?? []}
          onClose={() => setOnboarding(undefined)}
          onDone={(text) => {
            setOnboarding(undefined)
            setNotice(text)
            reload()
          }}
        />
      )}

      {error ? (
        <ErrorMessage error={error} onRetry={reload} />
      ) : !data ? (
        <Loading />
      ) : data.items.length === 0 ? (
        <p>{t('operator.empty')}</p>
      ) : (
        <>
          <div className="epom-table-wrap">
            <table className="epom-table" aria-busy={loading}>
              <caption>{t('operator.caption', { kraj: krajName(kraj) })}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('operator.name')}</th>
                  <th scope="col">{t('operator.okres')}</th>
                  <th scope="col">{t('operator.status')}</th>
                  <th scope="col">{t('operator.actions')}</th>
                </tr>
              </thead>
              <tbody>
                {data.items.map((m) => (
                  <tr key={m.kodObce}>
                    <th scope="row">{m.name}</th>
                    <td>{m.okres}</td>
                    <td>
                      {m.tenant ? t(`status.${m.tenant.status}`) : t('operator.notConnected')}
                      {m.pendingRequest && (
                        <>
                          {' · '}
                          <Link to={`/kraj/${kraj}/zadosti`}>{t('operator.pendingRequest')}</Link>
                        </>
                      )}
                    </td>
                    <td>
                      {m.tenant ? (
                        <Link to={`/kraj/${kraj}/obce/${m.tenant.id}`}>
                          {t('operator.detail')} <span className="epom-visually-hidden">{m.name}</span>
                        </Link>
                      ) : (
                        <Button
                          type="outlined"
                          color="primary"
                          size="s"
                          onClick={() => {
                            setNotice(undefined)
                            setOnboarding(m)
                          }}
                        >
                          {t('operator.connect')} <span className="epom-visually-hidden">{m.name}</span>
                        </Button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <nav className="epom-pager" aria-label={t('platform.paging')}>
            <p>{t('operator.range', { from: offset + 1, to: offset + data.items.length, total: data.total })}</p>
            <Button type="outlined" color="primary" size="s" disabled={page <= 1} onClick={() => show({ q, stav: status, strana: page - 1 })}>
              {t('platform.prev')}
            </Button>
            <Button
              type="outlined"
              color="primary"
              size="s"
              disabled={offset + data.items.length >= data.total}
              onClick={() => show({ q, stav: status, strana: page + 1 })}
            >
              {t('platform.next')}
            </Button>
          </nav>
        </>
      )}
    </>
  )
}

type Field = 'slug' | 'modules' | 'adminEmail' | 'adminName'

/** The onboarding form for one municipality: a non-modal dialog above the table. */
function OnboardPanel({
  kraj,
  municipality,
  modules,
  onClose,
  onDone,
}: {
  kraj: string
  municipality: OperatorMunicipality
  modules: ModuleInfo[]
  onClose: () => void
  onDone: (text: string) => void
}) {
  const { t } = useI18n()
  const { expire } = useSession()
  const [slug, setSlug] = useState('')
  const [selected, setSelected] = useState<string[]>([])
  const [adminName, setAdminName] = useState('')
  const [adminEmail, setAdminEmail] = useState('')
  const [errors, setErrors] = useState<Partial<Record<Field, string>>>({})
  const [failure, setFailure] = useState<unknown>()
  const [saving, setSaving] = useState(false)
  const ref = useRef<HTMLElement>(null)

  // The dialog takes the focus when it opens, as a dialog should.
  useEffect(() => ref.current?.querySelector<HTMLElement>('h2')?.focus(), [municipality.kodObce])

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setSaving(true)
    setFailure(undefined)
    try {
      const created = await unwrap(
        api.POST('/api/v1/operator/{kraj}/tenants', {
          params: { path: { kraj } },
          body: {
            kodObce: municipality.kodObce,
            slug: slug.trim() || undefined,
            modules: selected,
            adminEmail: adminEmail.trim(),
            adminName: adminName.trim(),
          },
        }),
      )
      onDone(
        t(created.adminInvited ? 'operator.connected' : 'operator.connectedNotInvited', {
          name: created.name,
          email: adminEmail.trim(),
        }),
      )
    } catch (error) {
      if (isApiError(error, 401)) expire()
      const byField = isApiError(error) ? error.fieldErrors() : {}
      const known: Partial<Record<Field, string>> = {}
      for (const f of ['slug', 'modules', 'adminEmail', 'adminName'] as const) if (byField[f]) known[f] = byField[f]
      setErrors(known)
      if (Object.keys(known).length === 0) setFailure(error)
      else focusFirstInvalid(ref.current)
    } finally {
      setSaving(false)
    }
  }

  return (
    <section
      ref={ref}
      role="dialog"
      aria-modal="false"
      aria-labelledby="onboard-title"
      className="epom-panel"
      onKeyDown={(event) => event.key === 'Escape' && onClose()}
    >
      <h2 id="onboard-title" tabIndex={-1}>
        {t('operator.connectTitle', { name: municipality.name })}
      </h2>
      {failure !== undefined && <ErrorMessage error={failure} />}
      <form className="epom-form" onSubmit={submit} noValidate>
        <TextField
          id="onboard-slug"
          label={t('operator.slug')}
          hint={t('operator.slugHint')}
          value={slug}
          error={errors.slug}
          onChange={(event) => setSlug(event.target.value)}
        />
        <ModuleChecklist
          id="onboard-modules"
          legend={t('operator.modules')}
          modules={modules}
          selected={selected}
          onChange={setSelected}
          error={errors.modules}
        />
        <TextField
          id="onboard-admin-name"
          label={t('operator.adminName')}
          required
          autoComplete="off"
          value={adminName}
          error={errors.adminName}
          onChange={(event) => setAdminName(event.target.value)}
        />
        <TextField
          id="onboard-admin-email"
          label={t('operator.adminEmail')}
          hint={t('operator.adminEmailHint')}
          required
          type="email"
          autoComplete="off"
          value={adminEmail}
          error={errors.adminEmail}
          onChange={(event) => setAdminEmail(event.target.value)}
        />
        <div className="epom-actions">
          <Button type="solid" color="primary" nativeType="submit" disabled={saving}>
            {t('operator.connectSubmit')}
          </Button>
          <Button type="outlined" color="primary" onClick={onClose}>
            {t('operator.cancel')}
          </Button>
        </div>
      </form>
    </section>
  )
}
