import { createContext, use, useCallback, useEffect, useMemo, useState, type ReactNode } from 'react'
import type { LocalizedText } from '../api/client'
import { cs, en, type MessageKey } from './messages'

export type Lang = 'cs' | 'en'

const storageKey = 'epom.lang'
const dictionaries: Record<Lang, Record<MessageKey, string>> = { cs, en }
const locales: Record<Lang, string> = { cs: 'cs-CZ', en: 'en-GB' }

export interface I18n {
  lang: Lang
  setLang: (lang: Lang) => void
  /** The message in the current language, with {placeholders} filled in from `vars`. */
  t: (key: MessageKey, vars?: Record<string, string | number>) => string
  /** The current language's variant of a text the API sends in both languages. */
  pick: (text: LocalizedText) => string
  formatDate: (iso: string) => string
  formatDateTime: (iso: string) => string
}

const I18nContext = createContext<I18n | null>(null)

// Storage can be unavailable (disabled cookies, some private modes); the app then stays in Czech.
function storedLang(): Lang {
  try {
    return localStorage.getItem(storageKey) === 'en' ? 'en' : 'cs'
  } catch {
    return 'cs'
  }
}

function storeLang(lang: Lang) {
  try {
    localStorage.setItem(storageKey, lang)
  } catch {
    // Not persisted; the choice still holds until the page is reloaded.
  }
}

function createI18n(lang: Lang, setLang: (lang: Lang) => void): I18n {
  const dictionary = dictionaries[lang]
  // Municipal offices work in Prague time whatever the browser's zone is.
  const date = new Intl.DateTimeFormat(locales[lang], { dateStyle: 'medium', timeZone: 'Europe/Prague' })
  const dateTime = new Intl.DateTimeFormat(locales[lang], {
    dateStyle: 'medium',
    timeStyle: 'short',
    timeZone: 'Europe/Prague',
  })
  return {
    lang,
    setLang,
    t: (key, vars) => dictionary[key].replace(/\{(\w+)\}/g, (match, name: string) => String(vars?.[name] ?? match)),
    pick: (text) => text[lang],
    formatDate: (iso) => date.format(new Date(iso)),
    formatDateTime: (iso) => dateTime.format(new Date(iso)),
  }
}

export function I18nProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(storedLang)

  useEffect(() => {
    document.documentElement.lang = lang
  }, [lang])

  const setLang = useCallback((next: Lang) => {
    storeLang(next)
    setLangState(next)
  }, [])

  const i18n = useMemo(() => createI18n(lang, setLang), [lang, setLang])
  return <I18nContext value={i18n}>{children}</I18nContext>
}

export function useI18n(): I18n {
  const i18n = use(I18nContext)
  if (!i18n) throw new Error('useI18n must be used inside <I18nProvider>')
  return i18n
}
