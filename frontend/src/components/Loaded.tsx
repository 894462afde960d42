import type { ReactNode } from 'react'
import type { ApiState } from '../lib/useApi'
import { ErrorMessage } from './ErrorMessage'
import { Loading } from './Loading'

/**
 * The states a page's data goes through: an error (with a retry), loading, nothing to show,
 * or the content. Pages only say how the content and the empty case look.
 */
export function Loaded<T>({
  state,
  isEmpty,
  empty,
  children,
}: {
  state: ApiState<T>
  isEmpty?: (data: T) => boolean
  empty?: ReactNode
  children: (data: T) => ReactNode
}) {
  if (state.error) return <ErrorMessage error={state.error} onRetry={state.reload} />
  if (state.data === undefined) return <Loading />
  if (isEmpty?.(state.data)) return <>{empty}</>
  return <>{children(state.data)}</>
}
