import {
  GovFormControl,
  GovFormInput,
  GovFormLabel,
  GovFormMessage,
  GovFormTextarea,
  type GovFormInputProps,
} from '@gov-design-system-ce/react'
import type { InputHTMLAttributes, ReactNode, TextareaHTMLAttributes } from 'react'

interface FrameProps {
  id: string
  label: string
  required?: boolean
  hint?: string
  error?: string
}

// The design system styles its form parts only for an explicit size; the SPA uses the medium one.
const size = 'm'

function hintId(id: string) {
  return `${id}-hint`
}

function errorId(id: string) {
  return `${id}-error`
}

/** The ids of the hint and error shown under field `id`, for its aria-describedby. */
function describedBy({ id, hint, error }: FrameProps): string | undefined {
  return [hint && hintId(id), error && errorId(id)].filter(Boolean).join(' ') || undefined
}

function FieldFrame({ id, label, required, hint, error, children }: FrameProps & { children: ReactNode }) {
  return (
    <GovFormControl
      className="epom-field"
      size={size}
      invalid={!!error}
      top={
        <GovFormLabel identifier={id} size={size} required={required}>
          {label}
        </GovFormLabel>
      }
      bottom={
        hint || error ? (
          <div>
            {hint && (
              <GovFormMessage size={size} identifier={hintId(id)}>
                {hint}
              </GovFormMessage>
            )}
            {error && (
              <GovFormMessage size={size} color="error" identifier={errorId(id)}>
                {error}
              </GovFormMessage>
            )}
          </div>
        ) : undefined
      }
    >
      {children}
    </GovFormControl>
  )
}

type TextFieldProps = FrameProps &
  Omit<InputHTMLAttributes<HTMLInputElement>, 'id' | 'size' | 'prefix'> & {
    accessibleShowPasswordLabel?: string
    accessibleHidePasswordLabel?: string
  }

// GovFormInput types its password-toggle labels as the literals of its Czech defaults, though any
// text works; the cast lets the English labels through.
type ShowLabel = GovFormInputProps['accessibleShowPasswordLabel']
type HideLabel = GovFormInputProps['accessibleHidePasswordLabel']

/** A labelled design-system input with an optional hint and an error message bound to it. */
export function TextField({
  id,
  label,
  required,
  hint,
  error,
  accessibleShowPasswordLabel,
  accessibleHidePasswordLabel,
  ...input
}: TextFieldProps) {
  const frame = { id, label, required, hint, error }
  return (
    <FieldFrame {...frame}>
      <GovFormInput
        {...input}
        accessibleShowPasswordLabel={accessibleShowPasswordLabel as ShowLabel}
        accessibleHidePasswordLabel={accessibleHidePasswordLabel as HideLabel}
        identifier={id}
        size={size}
        name={input.name ?? id}
        required={required}
        invalid={!!error}
        aria-describedby={describedBy(frame)}
      />
    </FieldFrame>
  )
}

type TextAreaFieldProps = FrameProps & Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, 'id'>

export function TextAreaField({ id, label, required, hint, error, ...textarea }: TextAreaFieldProps) {
  const frame = { id, label, required, hint, error }
  return (
    <FieldFrame {...frame}>
      <GovFormTextarea
        {...textarea}
        identifier={id}
        size={size}
        name={textarea.name ?? id}
        required={required}
        invalid={!!error}
        aria-describedby={describedBy(frame)}
      />
    </FieldFrame>
  )
}
