import type { ModuleInfo } from '../api/client'
import { useI18n } from '../i18n/I18nProvider'

/** Checkboxes for the deployment's modules, in a fieldset whose legend names the choice. */
export function ModuleChecklist({
  id,
  legend,
  modules,
  selected,
  onChange,
  error,
}: {
  id: string
  legend: string
  modules: ModuleInfo[]
  selected: string[]
  onChange: (selected: string[]) => void
  error?: string
}) {
  const { pick } = useI18n()
  const toggle = (moduleId: string, on: boolean) =>
    onChange(on ? [...selected, moduleId] : selected.filter((m) => m !== moduleId))
  return (
    <fieldset className="epom-fieldset" aria-describedby={error ? `${id}-error` : undefined}>
      <legend>{legend}</legend>
      {modules.map((m) => (
        <div key={m.id} className="epom-check">
          <input
            type="checkbox"
            id={`${id}-${m.id}`}
            checked={selected.includes(m.id)}
            onChange={(event) => toggle(m.id, event.target.checked)}
          />
          <label htmlFor={`${id}-${m.id}`}>{pick(m.name)}</label>
        </div>
      ))}
      {error && (
        <p id={`${id}-error`} className="epom-field-error" role="alert">
          {error}
        </p>
      )}
    </fieldset>
  )
}
