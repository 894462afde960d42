import { Link } from 'react-router'
import type { TenantProfile } from '../api/client'
import { PageHeading } from '../components/PageHeading'
import { useI18n } from '../i18n/I18nProvider'
import type { MessageKey } from '../i18n/messages'
import { useTenant } from '../tenant/TenantProvider'

// The catalogue facts shown about a municipality, in display order; unset ones are skipped.
const facts: [keyof TenantProfile, MessageKey][] = [
  ['type', 'overview.type'],
  ['kodObce', 'overview.kodObce'],
  ['ico', 'overview.ico'],
  ['okres', 'overview.okres'],
  ['kraj', 'overview.kraj'],
  ['orp', 'overview.orp'],
  ['address', 'overview.address'],
]

export function OverviewPage() {
  const { t, pick } = useI18n()
  const { slug, profile, modules } = useTenant()

  return (
    <>
      <PageHeading>{t('overview.title')}</PageHeading>
      <section aria-labelledby="profile-heading">
        <h2 id="profile-heading">{profile.name}</h2>
        <dl className="epom-facts">
          {facts.map(([field, label]) =>
            profile[field] ? (
              <div key={field}>
                <dt>{t(label)}</dt>
                <dd>{String(profile[field])}</dd>
              </div>
            ) : null,
          )}
          {profile.contactEmail && (
            <div>
              <dt>{t('overview.contactEmail')}</dt>
              <dd>
                <a href={`mailto:${profile.contactEmail}`}>{profile.contactEmail}</a>
              </dd>
            </div>
          )}
          {profile.contactPhone && (
            <div>
              <dt>{t('overview.contactPhone')}</dt>
              <dd>
                <a href={`tel:${profile.contactPhone.replace(/[^+0-9]/g, '')}`}>{profile.contactPhone}</a>
              </dd>
            </div>
          )}
          {profile.website && (
            <div>
              <dt>{t('overview.website')}</dt>
              <dd>
                <a href={profile.website}>{profile.website}</a>
              </dd>
            </div>
          )}
        </dl>
        <p>
          {/* Server-rendered, outside the SPA, hence a plain link. */}
          <a href={profile.links.landing}>{t('overview.landing')}</a>
        </p>
      </section>
      <section aria-labelledby="modules-heading">
        <h2 id="modules-heading">{t('overview.modules')}</h2>
        {modules.length === 0 ? (
          <p>{t('overview.noModules')}</p>
        ) : (
          <ul className="epom-cards">
            {modules.map((module) => (
              <li key={module.id} className="epom-card">
                <Link to={`/t/${slug}/m/${module.id}`} className="epom-card__title">
                  {pick(module.name)}
                </Link>
                <p>{pick(module.description)}</p>
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  )
}
