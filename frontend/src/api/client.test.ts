import { describe, expect, it } from 'vitest'
import { mockApi, problem } from '../test/api'
import { api, ApiError, setCsrfToken, unwrap } from './client'

describe('api client', () => {
  it('turns a problem+json answer into an ApiError with per-field messages', async () => {
    mockApi({
      'PUT /api/v1/tenants/liberec/settings': () =>
        problem({
          type: '/problems/validation',
          title: 'Neplatná data',
          status: 422,
          detail: 'Požadavek obsahuje chyby.',
          requestId: 'req-42',
          errors: [
            { field: '/displayName', message: 'Název je povinný.' },
            { field: '/embedOrigins/0', message: 'První adresa je neplatná.' },
            { field: '/embedOrigins/3', message: 'Čtvrtá adresa je neplatná.' },
          ],
        }),
    })

    const error = await unwrap(
      api.PUT('/api/v1/tenants/{tenant}/settings', {
        params: { path: { tenant: 'liberec' } },
        body: { displayName: '' },
      }),
    ).catch((e: unknown) => e)

    expect(error).toBeInstanceOf(ApiError)
    const apiError = error as ApiError
    expect(apiError.status).toBe(422)
    expect(apiError.message).toBe('Požadavek obsahuje chyby.')
    expect(apiError.problem.requestId).toBe('req-42')
    expect(apiError.fieldErrors()).toEqual({
      displayName: 'Název je povinný.',
      embedOrigins: 'První adresa je neplatná. Čtvrtá adresa je neplatná.',
    })
  })

  it('describes an error without a problem document by its HTTP status', async () => {
    mockApi({
      'GET /api/v1/me': () => new Response('<html>Bad Gateway</html>', { status: 502, statusText: 'Bad Gateway' }),
    })

    const error = await unwrap(api.GET('/api/v1/me')).catch((e: unknown) => e)

    expect(error).toBeInstanceOf(ApiError)
    expect((error as ApiError).problem).toMatchObject({ status: 502, title: 'Bad Gateway' })
    expect((error as ApiError).fieldErrors()).toEqual({})
  })

  it('sends the CSRF token on writes only', async () => {
    const requests = mockApi({
      'GET /api/v1/me': {},
      'PATCH /api/v1/platform/tenants/3b0c6d8e-7f1a-4c2b-9d3e-000000000001': {},
      'DELETE /api/v1/session': () => new Response(null, { status: 204 }),
    })
    setCsrfToken('token-1')

    await unwrap(api.GET('/api/v1/me'))
    await unwrap(
      api.PATCH('/api/v1/platform/tenants/{tenantId}', {
        params: { path: { tenantId: '3b0c6d8e-7f1a-4c2b-9d3e-000000000001' } },
        body: { status: 'suspended' },
      }),
    )
    await unwrap(api.DELETE('/api/v1/session'))

    expect(requests.map((r) => [r.method, r.headers.get('X-CSRF-Token')])).toEqual([
      ['GET', null],
      ['PATCH', 'token-1'],
      ['DELETE', 'token-1'],
    ])
    expect(requests[0].credentials).toBe('same-origin')
  })
})
