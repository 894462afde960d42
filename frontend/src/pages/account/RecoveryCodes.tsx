import { useEffect, useRef } from 'react'
import { Button } from '../../components/Button'
import { Message } from '../../components/Message'
import { useI18n } from '../../i18n/I18nProvider'

/** The file a person keeps: one code a line, with a line saying whose codes they are. */
export function recoveryFile(email: string, codes: string[]): string {
  return [`epom — záchranné kódy / recovery codes: ${email}`, '', ...codes, ''].join('\n')
}

/**
 * Recovery codes, shown once after enrolment or regeneration, with a download as a text file.
 * The heading takes focus, so a screen reader user hears that the codes are here.
 */
export function RecoveryCodes({ email, codes }: { email: string; codes: string[] }) {
  const { t } = useI18n()
  const headingRef = useRef<HTMLHeadingElement>(null)
  useEffect(() => headingRef.current?.focus(), [codes])

  const download = () => {
    const url = URL.createObjectURL(new Blob([recoveryFile(email, codes)], { type: 'text/plain;charset=utf-8' }))
    const a = document.createElement('a')
    a.href = url
    a.download = 'epom-zachranne-kody.txt'
    document.body.append(a)
    a.click()
    a.remove()
    URL.revokeObjectURL(url)
  }

  return (
    <section className="epom-recovery" aria-labelledby="recovery-codes-heading">
      <h3 id="recovery-codes-heading" ref={headingRef} tabIndex={-1}>
        {t('account.recoveryList')}
      </h3>
      <Message color="success">{t('account.recoveryShown')}</Message>
      <ol className="epom-recovery__codes">
        {codes.map((c) => (
          <li key={c}>
            <code>{c}</code>
          </li>
        ))}
      </ol>
      <p>
        <Button type="outlined" color="primary" size="s" onClick={download}>
          {t('account.download')}
        </Button>
      </p>
    </section>
  )
}
