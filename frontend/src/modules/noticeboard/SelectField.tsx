import { GovFormControl, GovFormLabel, GovFormMessage, GovFormSelect } from '@gov-design-system-ce/react'
import type { ChangeEvent, ReactNode } from 'react'

/** A labelled design-system select with an optional error bound to it. */
export function SelectField({
  id,
  label,
  value,
  onChange,
  error,
  required,
  children,
}: {
  id: string
  label: string
  value: string
  onChange: (value: string) => void
  error?: string
  required?: boolean
  children: ReactNode
}) {
  return (
    <GovFormControl
      className="epom-field"
      size="m"
      invalid={!!error}
      top={
        <GovFormLabel identifier={id} size="m" required={required}>
          {label}
        </GovFormLabel>
      }
      bottom={
        error ? (
          <GovFormMessage size="m" color="error" identifier={`${id}-error`}>
            {error}
          </GovFormMessage>
        ) : undefined
      }
    >
      <GovFormSelect
        identifier={id}
        size="m"
        value={value}
        invalid={!!error}
        aria-describedby={error ? `${id}-error` : undefined}
        onChange={(e: ChangeEvent<HTMLSelectElement>) => onChange(e.target.value)}
      >
        {children}
      </GovFormSelect>
    </GovFormControl>
  )
}
