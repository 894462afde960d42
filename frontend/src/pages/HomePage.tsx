import { useState, type FormEvent } from 'react'
import { Navigate, useSearchParams } from 'react-router'
import { api, unwrap, type Municipality } from '../api/client'
import { Button } from '../components/Button'
import { ErrorMessage } from '../components/ErrorMessage'
import { TextField } from '../components/FormField'
import { Loading } from '../components/Loading'
import { PageHeading } from '../components/PageHeading'
import { useI18n } from '../i18n/I18nProvider'
import { useApi } from '../lib/useApi'
import { useSession } from '../session/SessionProvider'

/** /app/: staff go straight to their (first) municipality; everyone else gets their own page. */
export function HomePage() {
  const { me } = useSession()
  const first = me?.memberships[0]
  return first ? <Navigate to={`/t/${first.slug}`} replace /> : <MyPage />
}

function MyPage() {
  const { t } = useI18n()
  const { me } = useSession()
  // The query lives in the URL so that a search can be bookmarked and Back returns to it.
  const [params, setParams] = useSearchParams()
  const query = params.get('q') ?? ''
  const [draft, setDraft] = useState(query)

  const search = (event: FormEvent) => {
    event.preventDefault()
    setParams(draft.trim() ? { q: draft.trim() } : {})
  }

  return (
    <>
      <PageHeading>{t('home.title')}</PageHeading>
      <p>{t('home.welcome', { name: me?.name ?? '' })}</p>
      <form className="epom-search" role="search" onSubmit={search}>
        <TextField
          id="municipality-search"
          label={t('home.searchLabel')}
          type="search"
          value={draft}
          onChange={(event) => setDraft(event.target.value)}
        />
        <Button type="solid" color="primary" nativeType="submit">
          {t('home.searchSubmit')}
        </Button>
      </form>
      {query && <SearchResults query={query} />}
    </>
  )
}

function SearchResults({ query }: { query: string }) {
  const { t } = useI18n()
  const { data, error, loading, reload } = useApi(
    () => unwrap(api.GET('/api/v1/catalogue/municipalities', { params: { query: { q: query } } })),
    [query],
  )

  if (error) return <ErrorMessage error={error} onRetry={reload} />
  if (!data) return <Loading />
  return (
    <section aria-labelledby="results-heading" aria-busy={loading}>
      <h2 id="results-heading">{t('home.results')}</h2>
      {data.items.length === 0 ? (
        <p>{t('home.noResults')}</p>
      ) : (
        <ul className="epom-plain-list">
          {data.items.map((municipality) => (
            <MunicipalityItem key={municipality.kodObce} municipality={municipality} />
          ))}
        </ul>
      )}
    </section>
  )
}

function MunicipalityItem({ municipality }: { municipality: Municipality }) {
  const { t } = useI18n()
  const place = t('home.place', { okres: municipality.okres, kraj: municipality.kraj })
  return (
    <li className="epom-result">
      {municipality.tenantSlug ? (
        // The public pages are rendered by the server, outside the SPA: a full page load.
        <a href={`/o/${municipality.tenantSlug}`} className="epom-result__name">
          {municipality.name}
        </a>
      ) : (
        <span className="epom-result__name">
          {municipality.name} <span className="epom-muted">({t('home.notUsing')})</span>
        </span>
      )}
      <span className="epom-result__place">
        {municipality.type} · {place}
      </span>
    </li>
  )
}
