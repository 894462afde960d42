import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react'
import { Link } from 'react-router'
import type { Me } from '../api/client'
import { useI18n } from '../i18n/I18nProvider'
import { useSession } from '../session/SessionProvider'
import { Button } from './Button'

/**
 * A disclosure (button + panel), not an ARIA menu: the panel holds ordinary content and one
 * button, which Tab reaches without the arrow-key handling a role="menu" would promise.
 */
export function UserMenu({ me }: { me: Me }) {
  const { t } = useI18n()
  const { signOut } = useSession()
  const [open, setOpen] = useState(false)
  const [failed, setFailed] = useState(false)
  const panelId = useId()
  const rootRef = useRef<HTMLDivElement>(null)
  const toggleRef = useRef<HTMLButtonElement>(null)

  useEffect(() => {
    if (!open) return
    const closeOnOutsideClick = (event: MouseEvent) => {
      if (!rootRef.current?.contains(event.target as Node)) setOpen(false)
    }
    document.addEventListener('mousedown', closeOnOutsideClick)
    return () => document.removeEventListener('mousedown', closeOnOutsideClick)
  }, [open])

  const closeOnEscape = (event: KeyboardEvent) => {
    if (event.key !== 'Escape' || !open) return
    setOpen(false)
    toggleRef.current?.focus()
  }

  // On success the session ends and RequireSession takes the user to the sign-in page.
  const handleSignOut = async () => {
    setFailed(false)
    try {
      await signOut()
    } catch {
      setFailed(true)
    }
  }

  return (
    <div className="epom-user-menu" ref={rootRef} onKeyDown={closeOnEscape}>
      <Button
        ref={toggleRef}
        type="outlined"
        color="primary"
        size="s"
        aria-expanded={open}
        aria-controls={panelId}
        onClick={() => setOpen((o) => !o)}
      >
        {me.name}
      </Button>
      <div id={panelId} className="epom-user-menu__panel" hidden={!open}>
        <p className="epom-muted">{me.email}</p>
        <p>
          <Link to="/ucet" onClick={() => setOpen(false)}>
            {t('account.menu')}
          </Link>
        </p>
        <p>
          <Link to="/ucet/heslo" onClick={() => setOpen(false)}>
            {t('accounts.menuLink')}
          </Link>
        </p>
        {failed && <p className="epom-error-text">{t('user.signOutFailed')}</p>}
        <Button type="solid" color="primary" size="s" onClick={handleSignOut}>
          {t('user.signOut')}
        </Button>
      </div>
    </div>
  )
}
