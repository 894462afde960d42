import { render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import { LanguageSwitch } from '../components/LanguageSwitch'
import { I18nProvider, useI18n } from './I18nProvider'

function Probe() {
  const { t, formatDateTime } = useI18n()
  return (
    <>
      <p>{t('nav.overview')}</p>
      <p>{t('platform.range', { from: 1, to: 20, total: 57 })}</p>
      <p data-testid="date">{formatDateTime('2026-11-22T10:30:00Z')}</p>
    </>
  )
}

function renderSwitchable() {
  return render(
    <I18nProvider>
      <LanguageSwitch />
      <Probe />
    </I18nProvider>,
  )
}

describe('i18n', () => {
  it('speaks Czech by default', () => {
    renderSwitchable()
    expect(screen.getByText('Přehled')).toBeInTheDocument()
    expect(screen.getByText('Obce 1–20 z 57')).toBeInTheDocument()
    expect(document.documentElement.lang).toBe('cs')
  })

  it('switches to English, updates <html lang> and remembers the choice', async () => {
    const { unmount } = renderSwitchable()

    await userEvent.click(screen.getByRole('button', { name: 'English' }))

    expect(screen.getByText('Overview')).toBeInTheDocument()
    expect(screen.getByText('Municipalities 1–20 of 57')).toBeInTheDocument()
    expect(screen.getByRole('button', { name: 'Čeština' })).toHaveAttribute('lang', 'cs')
    expect(document.documentElement.lang).toBe('en')
    expect(localStorage.getItem('epom.lang')).toBe('en')

    unmount()
    renderSwitchable()
    expect(screen.getByText('Overview')).toBeInTheDocument()
  })

  it('shows times in Prague time whatever the browser zone is', () => {
    renderSwitchable()
    // 10:30 UTC is 11:30 in Prague in November (CET).
    expect(screen.getByTestId('date')).toHaveTextContent('11:30')
    expect(screen.getByTestId('date')).toHaveTextContent('2026')
  })
})
