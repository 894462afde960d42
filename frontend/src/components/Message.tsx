import { GovMessage } from '@gov-design-system-ce/react'
import type { ReactNode } from 'react'

/**
 * A design-system message box, which announces itself (role="status"). GovMessage is styled only
 * with an explicit type; the SPA uses the subtle one.
 */
export function Message({ color, children }: { color: 'success' | 'error'; children: ReactNode }) {
  return (
    <GovMessage color={color} type="subtle" className="epom-block">
      {children}
    </GovMessage>
  )
}
