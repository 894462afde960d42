import { useEffect, useRef, useState } from 'react'

/** Moves focus to the first field marked invalid in form, so a screen reader reads its error. */
export function focusFirstInvalid(form: HTMLElement | null) {
  form?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus()
}

/**
 * A form's ref, and `refused` to call when a submission was refused: once React has rendered
 * the errors, focus moves to the first field the form (or the API) rejected.
 */
export function useFocusInvalid() {
  const formRef = useRef<HTMLFormElement>(null)
  const [attempt, setAttempt] = useState(0)
  useEffect(() => {
    if (attempt > 0) focusFirstInvalid(formRef.current)
  }, [attempt])
  return { formRef, refused: () => setAttempt((n) => n + 1) }
}
