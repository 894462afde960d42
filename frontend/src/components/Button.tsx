import { GovButton, type GovButtonProps } from '@gov-design-system-ce/react'
import type { Ref } from 'react'

type ButtonProps = Omit<GovButtonProps, 'asChild' | 'nativeType'> & {
  nativeType?: 'button' | 'submit'
  ref?: Ref<HTMLButtonElement>
}

/**
 * The design system's button. GovButton 3.4 only styles `disabled` and never sets it on its own
 * <button>, so a "disabled" button could still be clicked or submitted; handing it our <button>
 * as a child (asChild) makes it pass `disabled` and the other attributes through.
 */
export function Button({ children, nativeType = 'button', ref, ...props }: ButtonProps) {
  return (
    <GovButton {...props} nativeType={nativeType} asChild>
      <button ref={ref}>{children}</button>
    </GovButton>
  )
}
