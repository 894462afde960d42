import { Link } from 'react-router'
import { LinkedIdentities } from '../../components/LinkedIdentities'
import { Message } from '../../components/Message'
import { PageHeading } from '../../components/PageHeading'
import { useI18n } from '../../i18n/I18nProvider'
import { useSession } from '../../session/SessionProvider'
import { SessionsSection } from './SessionsSection'
import { TotpSection } from './TotpSection'

/** /app/ucet: two-factor sign-in, recovery codes, signed-in devices, and the way to the password change. */
export function AccountPage() {
  const { t } = useI18n()
  const { me } = useSession()
  if (!me) return null
  return (
    <>
      <PageHeading>{t('account.title')}</PageHeading>
      {me.mfaRequired && (
        <Message color="error">{me.mfaEnabled ? t('account.signInAgain') : t('account.enrolRequired')}</Message>
      )}
      <TotpSection me={me} />
      <SessionsSection />
      <LinkedIdentities />
      <p>
        <Link to="/ucet/heslo">{t('account.changePassword')}</Link>
      </p>
    </>
  )
}
