import { useCallback, useEffect, useState, type DependencyList } from 'react'
import { isApiError } from '../api/client'
import { useSession } from '../session/SessionProvider'

export interface ApiState<T> {
  data?: T
  error?: unknown
  loading: boolean
  reload: () => void
}

/**
 * Runs `load` whenever `deps` change (or reload() is called) and tracks its outcome. The previous
 * data stays available while a new load runs, so tables do not blank out between pages. A 401
 * means the session ended meanwhile: the session is dropped, which sends the user to sign in.
 */
export function useApi<T>(load: () => Promise<T>, deps: DependencyList): ApiState<T> {
  const { expire } = useSession()
  const [state, setState] = useState<Omit<ApiState<T>, 'reload'>>({ loading: true })
  const [attempt, setAttempt] = useState(0)

  useEffect(() => {
    // Answers of superseded loads are dropped instead of aborting the requests.
    let current = true
    setState((previous) => ({ data: previous.data, loading: true }))
    load().then(
      (data) => current && setState({ data, loading: false }),
      (error: unknown) => {
        if (!current) return
        if (isApiError(error, 401)) expire()
        setState({ error, loading: false })
      },
    )
    return () => {
      current = false
    }
    // `load` is a fresh closure on every render; `deps` name what it depends on.
  }, [...deps, attempt, expire])

  const reload = useCallback(() => setAttempt((n) => n + 1), [])
  return { ...state, reload }
}
