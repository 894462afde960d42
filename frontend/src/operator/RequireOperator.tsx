import type { ReactNode } from 'react'
import { Outlet, useParams } from 'react-router'
import { ForbiddenPage } from '../pages/ForbiddenPage'
import { operatorKraje } from '../session/roles'
import { useSession } from '../session/SessionProvider'

/** The console of kraj :kraj is for its operators; the API enforces the same. */
export function RequireOperator({ children }: { children: ReactNode }) {
  const { me } = useSession()
  const { kraj = '' } = useParams()
  return operatorKraje(me).includes(kraj) ? children : <ForbiddenPage />
}

/** Route element: the console's pages, for the operators of :kraj. */
export function RequireOperatorOutlet() {
  return (
    <RequireOperator>
      <Outlet />
    </RequireOperator>
  )
}
