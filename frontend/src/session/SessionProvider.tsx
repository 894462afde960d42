import { createContext, use, useCallback, useEffect, useMemo, useState, type ReactNode } from 'react'
import { api, isApiError, setCsrfToken, unwrap, type Me } from '../api/client'

export type SessionState =
  | { status: 'loading' }
  /** `byUser`: signed out here on purpose, rather than never signed in or the session expired. */
  | { status: 'signed-out'; byUser?: boolean }
  | { status: 'signed-in'; me: Me }
  | { status: 'failed'; error: unknown }

export interface Session {
  state: SessionState
  /** The signed-in user, when there is one. */
  me?: Me
  /**
   * Rejects with the API's error (401 for wrong credentials) and leaves the state as it was.
   * Resolves to 'second-factor' when the account has two-factor sign-in: no session yet, finish
   * with signInSecondFactor.
   */
  signIn: (email: string, password: string) => Promise<'signed-in' | 'second-factor'>
  /** The second step of a two-step sign-in, with a TOTP code or a recovery code. */
  signInSecondFactor: (proof: { code: string } | { recoveryCode: string }) => Promise<void>
  /** Reads /me again without the loading state (after a change to the account's security). */
  refresh: () => Promise<void>
  /** Rejects when the server could not end the session; the user then stays signed in. */
  signOut: () => Promise<void>
  /** Forget the user after the API answered 401: the session cookie expired or was revoked. */
  expire: () => void
  reload: () => void
}

const SessionContext = createContext<Session | null>(null)

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<SessionState>({ status: 'loading' })
  const [attempt, setAttempt] = useState(0)

  const signedIn = useCallback((me: Me) => {
    setCsrfToken(me.csrfToken)
    setState({ status: 'signed-in', me })
  }, [])

  const signedOut = useCallback((byUser = false) => {
    setCsrfToken('')
    setState({ status: 'signed-out', byUser })
  }, [])

  // Stable, because data-loading hooks depend on it.
  const expire = useCallback(() => signedOut(), [signedOut])

  useEffect(() => {
    let current = true
    unwrap(api.GET('/api/v1/me')).then(
      (me) => current && signedIn(me),
      (error: unknown) => {
        if (!current) return
        if (isApiError(error, 401)) signedOut()
        else setState({ status: 'failed', error })
      },
    )
    return () => {
      current = false
    }
  }, [attempt, signedIn, signedOut])

  const session = useMemo<Session>(
    () => ({
      state,
      me: state.status === 'signed-in' ? state.me : undefined,
      signIn: async (email, password) => {
        const result = await api.POST('/api/v1/session', { body: { email, password } })
        // 202: the password was right, the code is still to come (the body is the challenge).
        if (result.response.status === 202) return 'second-factor'
        signedIn((await unwrap(Promise.resolve(result))) as Me)
        return 'signed-in'
      },
      signInSecondFactor: async (proof) =>
        signedIn(await unwrap(api.POST('/api/v1/session/mfa', { body: proof }))),
      refresh: async () => signedIn(await unwrap(api.GET('/api/v1/me'))),
      signOut: async () => {
        try {
          await unwrap(api.DELETE('/api/v1/session'))
        } catch (error) {
          // 401: the session had already ended. Anything else leaves the cookie valid, so the user
          // stays signed in and the caller reports the failure.
          if (!isApiError(error, 401)) throw error
        }
        signedOut(true)
      },
      expire,
      reload: () => {
        setState({ status: 'loading' })
        setAttempt((n) => n + 1)
      },
    }),
    [state, signedIn, signedOut, expire],
  )

  return <SessionContext value={session}>{children}</SessionContext>
}

export function useSession(): Session {
  const session = use(SessionContext)
  if (!session) throw new Error('useSession must be used inside <SessionProvider>')
  return session
}
