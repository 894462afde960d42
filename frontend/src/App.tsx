import { BrowserRouter, Route, Routes } from 'react-router'
import { RequirePlatformAdmin, RequireSession, RequireTenantRole } from './components/guards'
import { Shell } from './components/Shell'
import { I18nProvider } from './i18n/I18nProvider'
import { noticeboardRoutes } from './modules/noticeboard/routes'
import { HomePage } from './pages/HomePage'
import { InvitationPage } from './pages/InvitationPage'
import { AuditPage } from './pages/AuditPage'
import { ExportPage } from './pages/ExportPage'
import { MailLogPage } from './pages/MailLogPage'
import { MembersPage } from './pages/MembersPage'
import { ModulePage } from './pages/ModulePage'
import { NotFoundPage } from './pages/NotFoundPage'
import { OverviewPage } from './pages/OverviewPage'
import { PlatformPage } from './pages/PlatformPage'
import { SettingsPage } from './pages/SettingsPage'
import { SignInPage } from './pages/SignInPage'
import {
  ChangePasswordPage,
  ForgotPasswordPage,
  RegisterPage,
  ResetPasswordPage,
  VerifyEmailPage,
} from './pages/AccountPages'
import { TokensPage } from './pages/TokensPage'
import { AccountPage } from './pages/account/AccountPage'
import { logsRoles, membersRoles, settingsRoles, tokensRoles } from './session/roles'
import { SessionProvider } from './session/SessionProvider'
import { TenantGate } from './tenant/TenantGate'
import { OperatorConsole } from './operator/OperatorConsole'
import { OperatorRequestsPage } from './operator/OperatorRequestsPage'
import { OperatorTenantPage } from './operator/OperatorTenantPage'
import { RequireOperatorOutlet } from './operator/RequireOperator'
import { SubscribePage } from './operator/SubscribePage'

/** Client routes, relative to the /app/ basename. */
export function AppRoutes() {
  return (
    <Routes>
      <Route element={<Shell />}>
        <Route path="prihlaseni" element={<SignInPage />} />
        {/* Self-registration, address verification and password reset */}
        <Route path="registrace" element={<RegisterPage />} />
        <Route path="overeni" element={<VerifyEmailPage />} />
        <Route path="zapomenute-heslo" element={<ForgotPasswordPage />} />
        <Route path="obnova-hesla" element={<ResetPasswordPage />} />
        {/* members: the invitation e-mail's link; open to people without an account */}
        <Route path="pozvanka" element={<InvitationPage />} />
        {/* operator: the public order form, then the operator console below. */}
        <Route path="objednat" element={<SubscribePage />} />
        <Route element={<RequireSession />}>
          <Route index element={<HomePage />} />
          <Route path="ucet/heslo" element={<ChangePasswordPage />} />
          {/* mfa: account security (two-factor sign-in, recovery codes, my sessions) */}
          <Route path="ucet" element={<AccountPage />} />
          <Route
            path="platforma"
            element={
              <RequirePlatformAdmin>
                <PlatformPage />
              </RequirePlatformAdmin>
            }
          />
          <Route path="kraj/:kraj" element={<RequireOperatorOutlet />}>
            <Route index element={<OperatorConsole />} />
            <Route path="zadosti" element={<OperatorRequestsPage />} />
            <Route path="obce/:tenantId" element={<OperatorTenantPage />} />
          </Route>
          <Route path="t/:slug" element={<TenantGate />}>
            <Route index element={<OverviewPage />} />
            <Route
              path="nastaveni"
              element={
                <RequireTenantRole roles={settingsRoles}>
                  <SettingsPage />
                </RequireTenantRole>
              }
            />
            <Route
              path="pracovnici"
              element={
                <RequireTenantRole roles={membersRoles}>
                  <MembersPage />
                </RequireTenantRole>
              }
            />
            <Route
              path="posta"
              element={
                <RequireTenantRole roles={logsRoles}>
                  <MailLogPage />
                </RequireTenantRole>
              }
            />
            <Route
              path="zaznamy"
              element={
                <RequireTenantRole roles={logsRoles}>
                  <AuditPage />
                </RequireTenantRole>
              }
            />
            <Route
              path="export"
              element={
                <RequireTenantRole roles={settingsRoles}>
                  <ExportPage />
                </RequireTenantRole>
              }
            />
            <Route
              path="tokeny"
              element={
                <RequireTenantRole roles={tokensRoles}>
                  <TokensPage />
                </RequireTenantRole>
              }
            />
            {/* noticeboard */}
            {noticeboardRoutes()}
            <Route path="m/:moduleId" element={<ModulePage />} />
          </Route>
        </Route>
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  )
}

export function App() {
  return (
    <I18nProvider>
      <SessionProvider>
        <BrowserRouter basename="/app">
          <AppRoutes />
        </BrowserRouter>
      </SessionProvider>
    </I18nProvider>
  )
}
