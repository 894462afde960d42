import { vi } from 'vitest'
import type { Me, ModuleInfo, Problem, TenantProfile } from '../api/client'

type Handler = (request: Request) => Response | Promise<Response>

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

export function problem(body: Problem): Response {
  return new Response(JSON.stringify(body), {
    status: body.status,
    headers: { 'Content-Type': 'application/problem+json' },
  })
}

/**
 * Replaces the global fetch with canned answers keyed by "METHOD /path"; a plain value is sent as
 * JSON. Anything else (the design system's icon requests, say) gets a 404. Returns every request.
 */
export function mockApi(routes: Record<string, Handler | object>): Request[] {
  const requests: Request[] = []
  vi.stubGlobal('fetch', async (input: RequestInfo | URL) => {
    const request = input instanceof Request ? input : new Request(new URL(String(input), window.location.origin))
    requests.push(request)
    const route = routes[`${request.method} ${new URL(request.url).pathname}`]
    if (route === undefined) return new Response('', { status: 404 })
    return typeof route === 'function' ? route(request) : json(route)
  })
  return requests
}

export const modules: ModuleInfo[] = [
  {
    id: 'noticeboard',
    name: { cs: 'Úřední deska', en: 'Official noticeboard' },
    description: { cs: 'Vyhlášky a oznámení', en: 'Notices' },
    public: true,
  },
  {
    id: 'petitions',
    name: { cs: 'Petice', en: 'Petitions' },
    description: { cs: 'Petice občanů', en: 'Citizen petitions' },
    public: true,
  },
]

export const liberec: TenantProfile = {
  id: '3b0c6d8e-7f1a-4c2b-9d3e-000000000001',
  slug: 'liberec',
  name: 'Statutární město Liberec',
  type: 'Statutární město',
  kodObce: '563889',
  kraj: 'Liberecký kraj',
  okres: 'Liberec',
  orp: 'Liberec',
  links: { landing: '/o/liberec' },
}

export function me(roles: string[], extra: Partial<Me> = {}): Me {
  return {
    id: '9c7d6e5f-0000-4000-8000-000000000001',
    email: 'starosta@liberec.demo',
    name: 'Jana Nováková',
    memberships: [{ tenantId: liberec.id, slug: 'liberec', name: 'Liberec', roles }],
    platformRoles: [],
    csrfToken: 'csrf-123',
    mfaEnabled: true,
    mfaRequired: false,
    ...extra,
  }
}

/** The answers a signed-in staff member's pages of Liberec need. */
export function tenantRoutes(user: Me): Record<string, Handler | object> {
  return {
    'GET /api/v1/me': user,
    'GET /api/v1/tenants/liberec': liberec,
    'GET /api/v1/tenants/liberec/modules': { items: modules },
  }
}
