import { BrowserRouter, Route, Routes } from 'react-router'
import { RequirePlatformAdmin, RequireSession, RequireTenantRole } from './components/guards'
import { Shell } from './components/Shell'
import { I18nProvider } from './i18n/I18nProvider'
import { HomePage } from './pages/HomePage'
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
import { logsRoles, membersRoles, settingsRoles } from './session/roles'
import { SessionProvider } from './session/SessionProvider'
import { TenantGate } from './tenant/TenantGate'

/** Client routes, relative to the /app/ basename. */
export function AppRoutes() {
  return (
    <Routes>
      <Route element={<Shell />}>
        <Route path="prihlaseni" element={<SignInPage />} />
        <Route element={<RequireSession />}>
          <Route index element={<HomePage />} />
          <Route
            path="platforma"
            element={
              <RequirePlatformAdmin>
                <PlatformPage />
              </RequirePlatformAdmin>
            }
          />
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
