import createClient, { type Middleware } from 'openapi-fetch'
import type { components, paths } from './schema'

type Schemas = components['schemas']
export type Problem = Schemas['Problem']
export type Me = Schemas['Me']
export type Membership = Schemas['Membership']
export type ModuleInfo = Schemas['ModuleInfo']
export type LocalizedText = Schemas['LocalizedText']
export type Municipality = Schemas['Municipality']
export type Tenant = Schemas['Tenant']
export type TenantStatus = Schemas['TenantStatus']
export type TenantProfile = Schemas['TenantProfile']
export type TenantSettings = Schemas['TenantSettings']
export type TenantSettingsInput = Schemas['TenantSettingsInput']
export type Member = Schemas['Member']
// External sign-in
export type AuthProvider = Schemas['AuthProvider']
export type LinkedIdentity = Schemas['LinkedIdentity']
// The regional operator's console and the online subscription
export type OperatorMunicipality = Schemas['OperatorMunicipality']
export type OperatorTenant = Schemas['OperatorTenant']
export type SubscriptionRequest = Schemas['SubscriptionRequest']

const unsafeMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

// The session's CSRF token, known once /api/v1/me or the sign-in has answered. It lives here
// rather than in React state because every write made through `api` has to carry it.
let csrfToken = ''

export function setCsrfToken(token: string) {
  csrfToken = token
}

const csrfHeader: Middleware = {
  onRequest({ request }) {
    if (unsafeMethods.has(request.method) && csrfToken) {
      request.headers.set('X-CSRF-Token', csrfToken)
    }
    return request
  },
}

// Problem titles and field messages come from the server; ask for them in the language the UI
// shows (the i18n provider keeps <html lang> current).
const languageHeader: Middleware = {
  onRequest({ request }) {
    request.headers.set('Accept-Language', document.documentElement.lang === 'en' ? 'en' : 'cs')
    return request
  },
}

export const api = createClient<paths>({
  // Absolute, because Request objects (built by openapi-fetch) reject relative URLs outside a browser.
  baseUrl: window.location.origin,
  credentials: 'same-origin',
  // Resolved at call time instead of captured now, so tests can stub the global fetch.
  fetch: (request) => globalThis.fetch(request),
})
api.use(csrfHeader, languageHeader)

/** A non-2xx answer of the API, carrying its RFC 9457 problem document. */
export class ApiError extends Error {
  readonly problem: Problem

  constructor(problem: Problem) {
    super(problem.detail ?? problem.title)
    this.name = 'ApiError'
    this.problem = problem
  }

  get status() {
    return this.problem.status
  }

  /**
   * Messages of the problem's `errors`, keyed by the top-level request field they point at:
   * "/displayName" → "displayName", "/embedOrigins/2" → "embedOrigins". Several messages for the
   * same field are joined.
   */
  fieldErrors(): Record<string, string> {
    const byField: Record<string, string> = {}
    for (const { field, message } of this.problem.errors ?? []) {
      const name = topLevelField(field)
      byField[name] = byField[name] ? `${byField[name]} ${message}` : message
    }
    return byField
  }
}

function topLevelField(pointer: string): string {
  if (!pointer.startsWith('/')) return pointer // a query or path parameter's plain name
  return pointer.split('/')[1].replaceAll('~1', '/').replaceAll('~0', '~')
}

function toProblem(body: unknown, response: Response): Problem {
  if (typeof body === 'object' && body !== null && 'title' in body && 'status' in body) {
    return body as Problem
  }
  // Not a problem document (a proxy's error page, an empty body): describe the HTTP status instead.
  return { type: 'about:blank', title: response.statusText || `HTTP ${response.status}`, status: response.status }
}

type Result = { data?: unknown; error?: unknown; response: Response }

/** Resolves to the response data of an `api` call, or rejects with an ApiError. */
export async function unwrap<R extends Result>(request: Promise<R>): Promise<Exclude<R['data'], undefined>> {
  const { data, error, response } = await request
  if (!response.ok) throw new ApiError(toProblem(error, response))
  // openapi-fetch sets `data` exactly when the response is ok.
  return data as Exclude<R['data'], undefined>
}

export function isApiError(error: unknown, status?: number): error is ApiError {
  return error instanceof ApiError && (status === undefined || error.status === status)
}
