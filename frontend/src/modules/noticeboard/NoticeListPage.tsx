import { useState } from 'react'
import { Link } from 'react-router'
import { api, unwrap } from '../../api/client'
import { Button } from '../../components/Button'
import { TextField } from '../../components/FormField'
import { Loaded } from '../../components/Loaded'
import { Pager } from '../../components/Pager'
import { PageHeading } from '../../components/PageHeading'
import { useI18n } from '../../i18n/I18nProvider'
import { useApi } from '../../lib/useApi'
import { useTenant } from '../../tenant/TenantProvider'
import { SelectField } from './SelectField'
import { SettingsForm } from './SettingsForm'
import {
  boardPath,
  canManageSettings,
  canWrite,
  categories,
  categoryKey,
  publicBoardUrl,
  stateKey,
  states,
  type NoticeCategory,
  type NoticeState,
} from './labels'

const pageSize = 50

/** The clerk's list of the board's notices with filters by state, category and date. */
export function NoticeListPage() {
  const { t, formatDateTime } = useI18n()
  const { slug, membership } = useTenant()
  const [state, setState] = useState<NoticeState | ''>('')
  const [category, setCategory] = useState<NoticeCategory | ''>('')
  const [from, setFrom] = useState('')
  const [to, setTo] = useState('')
  const [offset, setOffset] = useState(0)
  const [q, setQ] = useState('') // the search sent, and what is typed
  const [qInput, setQInput] = useState('')
  const list = useApi(
    () =>
      unwrap(
        api.GET('/api/v1/tenants/{tenant}/noticeboard/notices', {
          params: {
            path: { tenant: slug },
            query: {
              state: state || undefined,
              category: category || undefined,
              q: q.trim() || undefined,
              from: from || undefined,
              to: to || undefined,
              limit: pageSize,
              offset,
            },
          },
        }),
      ),
    [slug, state, category, q, from, to, offset],
  )
  const filter = <T,>(set: (v: T) => void) => (v: T) => {
    set(v)
    setOffset(0)
  }

  return (
    <>
      <PageHeading>{t('nb.title')}</PageHeading>
      <p>{t('nb.intro')}</p>
      <p className="epom-actions">
        {canWrite(membership) && (
          <Link className="gov-button gov-button--solid gov-button--primary gov-button--m" to={`${boardPath(slug)}/nove`}>
            {t('nb.new')}
          </Link>
        )}{' '}
        <a href={publicBoardUrl(slug)}>{t('nb.publicLink')}</a>{' '}
        <Link to={`${boardPath(slug)}/dukaz-vyveseni`}>{t('nbp.title')}</Link>
      </p>
      <form
        role="search"
        className="epom-filter"
        onSubmit={(e) => {
          e.preventDefault()
          filter(setQ)(qInput)
        }}
      >
        <TextField
          id="nb-q"
          type="search"
          label={t('nb.search')}
          hint={t('nb.searchHint')}
          maxLength={200}
          value={qInput}
          onChange={(e) => setQInput(e.target.value)}
        />
        <Button nativeType="submit" color="primary" type="outlined">
          {t('nb.searchSubmit')}
        </Button>
      </form>
      <div className="epom-filter epom-filter--grid">
        <SelectField id="nb-state" label={t('nb.filter.state')} value={state} onChange={filter((v) => setState(v as NoticeState | ''))}>
          <option value="">{t('nb.filter.all')}</option>
          {states.map((s) => (
            <option key={s} value={s}>
              {t(stateKey(s))}
            </option>
          ))}
        </SelectField>
        <SelectField
          id="nb-category"
          label={t('nb.filter.category')}
          value={category}
          onChange={filter((v) => setCategory(v as NoticeCategory | ''))}
        >
          <option value="">{t('nb.filter.all')}</option>
          {categories.map((c) => (
            <option key={c} value={c}>
              {t(categoryKey(c))}
            </option>
          ))}
        </SelectField>
        <TextField id="nb-from" type="date" label={t('nb.filter.from')} value={from} onChange={(e) => filter(setFrom)(e.target.value)} />
        <TextField id="nb-to" type="date" label={t('nb.filter.to')} value={to} onChange={(e) => filter(setTo)(e.target.value)} />
      </div>
      <Loaded state={list} isEmpty={(data) => data.items.length === 0} empty={<p>{t('nb.empty')}</p>}>
        {(data) => (
          <>
            <div className="epom-table-wrap">
              <table className="epom-table" aria-busy={list.loading}>
                <caption>{t('nb.caption', { total: String(data.total) })}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('nb.col.title')}</th>
                    <th scope="col">{t('nb.col.category')}</th>
                    <th scope="col">{t('nb.col.state')}</th>
                    <th scope="col">{t('nb.col.posting')}</th>
                    <th scope="col">{t('nb.col.until')}</th>
                  </tr>
                </thead>
                <tbody>
                  {data.items.map((n) => (
                    <tr key={n.id}>
                      <th scope="row">
                        <Link to={`${boardPath(slug)}/${n.id}`}>{n.title}</Link>
                      </th>
                      <td>{t(categoryKey(n.category))}</td>
                      <td>{t(stateKey(n.state))}</td>
                      <td>{n.postedAt || n.postingAt ? formatDateTime((n.postedAt ?? n.postingAt)!) : '—'}</td>
                      <td>
                        {n.takenDownAt
                          ? formatDateTime(n.takenDownAt)
                          : n.relevantUntil
                            ? formatDateTime(n.relevantUntil)
                            : t('nb.untilFurtherNotice')}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pager offset={offset} pageSize={pageSize} total={data.total} onOffset={setOffset} />
          </>
        )}
      </Loaded>
      {canManageSettings(membership) && <SettingsForm slug={slug} />}
    </>
  )
}
