import { useParams } from 'react-router'
import { PageHeading } from '../components/PageHeading'
import { useI18n } from '../i18n/I18nProvider'
import { useTenant } from '../tenant/TenantProvider'
import { NotFoundPage } from './NotFoundPage'

/** Landing page of an enabled module: its name and what it is for. */
export function ModulePage() {
  const { pick } = useI18n()
  const { moduleId } = useParams()
  const module = useTenant().modules.find((m) => m.id === moduleId)
  if (!module) return <NotFoundPage />

  return (
    <>
      <PageHeading>{pick(module.name)}</PageHeading>
      <p>{pick(module.description)}</p>
    </>
  )
}
