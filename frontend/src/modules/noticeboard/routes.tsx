import type { ReactNode } from 'react'
import { Route } from 'react-router'
import { NotFoundPage } from '../../pages/NotFoundPage'
import { useTenant } from '../../tenant/TenantProvider'
import { CertificatePage } from './CertificatePage'
import { NoticeDetailPage } from './NoticeDetailPage'
import { NoticeFormPage } from './NoticeFormPage'
import { NoticeListPage } from './NoticeListPage'
import { ProofPage } from './ProofPage'

/** The board's pages exist only where the municipality has switched the module on. */
function Enabled({ children }: { children: ReactNode }) {
  const { modules } = useTenant()
  return modules.some((m) => m.id === 'noticeboard') ? <>{children}</> : <NotFoundPage />
}

/** The board's routes under /t/:slug; they take precedence over the generic m/:moduleId page. */
export function noticeboardRoutes() {
  return (
    <>
      <Route path="m/noticeboard" element={<Enabled><NoticeListPage /></Enabled>} />
      <Route path="m/noticeboard/nove" element={<Enabled><NoticeFormPage /></Enabled>} />
      <Route path="m/noticeboard/dukaz-vyveseni" element={<Enabled><ProofPage /></Enabled>} />
      <Route path="m/noticeboard/:noticeId" element={<Enabled><NoticeDetailPage /></Enabled>} />
      <Route path="m/noticeboard/:noticeId/upravit" element={<Enabled><NoticeFormPage /></Enabled>} />
      <Route path="m/noticeboard/:noticeId/dolozka" element={<Enabled><CertificatePage /></Enabled>} />
    </>
  )
}
