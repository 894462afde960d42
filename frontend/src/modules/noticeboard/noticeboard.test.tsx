import { screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import { json, me, mockApi, problem, tenantRoutes } from '../../test/api'
import { renderApp } from '../../test/render'
import type { Notice } from './labels'

const base = '/api/v1/tenants/liberec/noticeboard'

const notice: Notice = {
  id: '0193a000-0000-7000-8000-000000000001',
  state: 'draft',
  title: 'Návrh rozpočtu 2027',
  body: 'Připomínky do 10. 12.',
  category: 'rozpocet',
  origin: 'own',
  originName: '',
  referenceNumber: 'OÚ/455/2026',
  fileMark: '',
  revision: 0,
  authorId: '9c7d6e5f-0000-4000-8000-000000000001',
  createdAt: '2026-11-20T09:00:00Z',
  updatedAt: '2026-11-20T09:00:00Z',
  attachments: [
    {
      id: '0193a000-0000-7000-8000-0000000000a1',
      name: 'navrh-rozpoctu.pdf',
      contentType: 'application/pdf',
      size: 20480,
      sha256: 'ab'.repeat(32),
      createdAt: '2026-11-20T09:01:00Z',
    },
  ],
}

describe('notice board', () => {
  it('lists notices and filters them by category', async () => {
    const requests = mockApi({
      ...tenantRoutes(me(['clerk'])),
      [`GET ${base}/notices`]: { items: [notice], total: 1 },
    })
    renderApp('/t/liberec/m/noticeboard')

    expect(await screen.findByRole('heading', { level: 1, name: 'Úřední deska' })).toBeInTheDocument()
    const table = await screen.findByRole('table', { name: 'Oznámení (1)' })
    expect(within(table).getByRole('link', { name: 'Návrh rozpočtu 2027' })).toHaveAttribute(
      'href',
      `/t/liberec/m/noticeboard/${notice.id}`,
    )
    expect(within(table).getByText('Koncept')).toBeInTheDocument()
    expect(within(table).getByText('do odvolání')).toBeInTheDocument()
    expect(screen.getByRole('link', { name: 'Nové oznámení' })).toBeInTheDocument()

    await userEvent.selectOptions(screen.getByLabelText('Kategorie'), 'volby')
    await screen.findByRole('table')
    const last = new URL(requests.filter((r) => r.url.includes('/notices')).at(-1)!.url)
    expect(last.searchParams.get('category')).toBe('volby')
  })

  it('searches the list when the clerk submits words', async () => {
    const requests = mockApi({ ...tenantRoutes(me(['clerk'])), [`GET ${base}/notices`]: { items: [], total: 0 } })
    renderApp('/t/liberec/m/noticeboard')
    const box = await screen.findByRole('searchbox', { name: 'Hledat v textu' })
    await userEvent.type(box, '  vyhlaska ')
    expect(requests.filter((r) => r.url.includes('/notices')).every((r) => !new URL(r.url).searchParams.has('q'))).toBe(true)
    await userEvent.click(screen.getByRole('button', { name: 'Hledat' }))
    await waitFor(() => {
      const last = new URL(requests.filter((r) => r.url.includes('/notices')).at(-1)!.url)
      expect(last.searchParams.get('q')).toBe('vyhlaska')
    })
  })

  it('offers an auditor no new notice', async () => {
    mockApi({ ...tenantRoutes(me(['auditor'])), [`GET ${base}/notices`]: { items: [], total: 0 } })
    renderApp('/t/liberec/m/noticeboard')
    expect(await screen.findByText('Žádná oznámení neodpovídají výběru.')).toBeInTheDocument()
    expect(screen.queryByRole('link', { name: 'Nové oznámení' })).not.toBeInTheDocument()
  })

  it('shows the field the API rejected and focuses it', async () => {
    mockApi({
      ...tenantRoutes(me(['clerk'])),
      [`POST ${base}/notices`]: () =>
        problem({
          type: '/problems/validation',
          title: 'Požadavek není platný',
          status: 400,
          errors: [{ field: '/title', message: 'Vyplňte název oznámení.' }],
        }),
    })
    renderApp('/t/liberec/m/noticeboard/nove')

    await userEvent.click(await screen.findByRole('button', { name: 'Uložit' }))
    expect(await screen.findByText('Vyplňte název oznámení.')).toBeInTheDocument()
    expect(screen.getByText('Formulář obsahuje chyby, opravte je prosím.')).toBeInTheDocument()
  })

  it('publishes a draft and shows its documents', async () => {
    const requests = mockApi({
      ...tenantRoutes(me(['clerk'])),
      [`GET ${base}/notices/${notice.id}`]: notice,
      [`GET ${base}/notices/${notice.id}/revisions`]: { items: [] },
      [`POST ${base}/notices/${notice.id}/publish`]: () => json({ ...notice, state: 'posted', revision: 1 }),
    })
    renderApp(`/t/liberec/m/noticeboard/${notice.id}`)

    expect(await screen.findByRole('heading', { level: 1, name: 'Návrh rozpočtu 2027' })).toBeInTheDocument()
    expect(screen.getByRole('link', { name: 'Stáhnout navrh-rozpoctu.pdf' })).toHaveAttribute(
      'href',
      `${base}/notices/${notice.id}/attachments/${notice.attachments[0].id}`,
    )
    expect(await screen.findByText('Oznámení ještě nebylo vyvěšeno.')).toBeInTheDocument()
    await userEvent.click(screen.getByRole('button', { name: 'Zveřejnit' }))
    expect(await screen.findByText('Hotovo.')).toBeInTheDocument()
    expect(requests.some((r) => r.method === 'POST' && r.url.endsWith('/publish'))).toBe(true)
  })
})
