import { GovDialog } from '@gov-design-system-ce/react'
import { useEffect, useId, type ReactNode } from 'react'

/**
 * The design system's modal dialog (focus trap, Escape, focus returned on close). GovDialog 3.4
 * hands its close label to the backdrop under a prop the backdrop ignores, which leaves an
 * unnamed role="button" on the page (axe: aria-command-name); this names it.
 */
export function Dialog({
  title,
  closeLabel,
  onClose,
  children,
}: {
  title: ReactNode
  closeLabel: string
  onClose: () => void
  children: ReactNode
}) {
  const marker = `epom-dialog-${useId().replace(/[^a-zA-Z0-9_-]/g, '')}`
  useEffect(() => {
    document.querySelector(`.${marker} .gov-backdrop__background`)?.setAttribute('aria-label', closeLabel)
  }, [marker, closeLabel])

  return (
    <GovDialog open className={marker} title={title} onClose={onClose} accessibleCloseLabel={closeLabel}>
      {children}
    </GovDialog>
  )
}
