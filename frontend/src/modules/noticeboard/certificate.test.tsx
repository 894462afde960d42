import { screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { components } from '../../api/schema'
import { me, mockApi, problem, tenantRoutes } from '../../test/api'
import { expectAccessible } from '../../test/axe'
import { renderApp } from '../../test/render'
import type { Notice } from './labels'

const base = '/api/v1/tenants/liberec/noticeboard'
const id = '0193a000-0000-7000-8000-000000000007'

const certificate: components['schemas']['PostingCertificate'] = {
  municipality: { name: 'Statutární město Liberec', ico: '00262978' },
  noticeId: id,
  title: 'Veřejná vyhláška – oznámení o zahájení řízení',
  category: 'vyhlasky',
  origin: 'own',
  originName: '',
  referenceNumber: 'MML/123/2026',
  fileMark: 'SZ 45/2026',
  revisionCount: 2,
  postedAt: '2026-11-02T08:30:00Z',
  takenDownAt: '2026-11-20T15:45:00Z',
  deliveredOn: '2026-11-17',
  deliveredOnRestDay: 'Den boje za svobodu a demokracii',
  earliestTakeDownOn: '2026-11-18',
  attachments: [{ name: 'vyhlaska.pdf', size: 2048, sha256: 'ab'.repeat(32) }],
  evidence: { days: 18, firstDay: '2026-11-03', lastDay: '2026-11-20', latestHash: 'cd'.repeat(32), chainIntact: true },
  issuedAt: '2026-11-22T09:00:00Z',
}

afterEach(() => vi.restoreAllMocks())

describe('certificate of posting', () => {
  it('lays out the real times, the delivery day and the evidence, and prints', async () => {
    mockApi({ ...tenantRoutes(me(['clerk'])), [`GET ${base}/notices/${id}/certificate`]: certificate })
    const print = vi.spyOn(window, 'print').mockImplementation(() => {})
    renderApp(`/t/liberec/m/noticeboard/${id}/dolozka`)
    expect(
      await screen.findByRole('heading', { level: 1, name: 'Doložka o vyvěšení a sejmutí písemnosti' }),
    ).toBeInTheDocument()
    const dates = screen.getByRole('table', { name: 'Vyvěšení a sejmutí' })
    // Prague time: 09:30 CET and 16:45 CET.
    expect(within(dates).getByRole('row', { name: /Vyvěšeno dne 2\. 11\. 2026 9:30/ })).toBeInTheDocument()
    expect(within(dates).getByRole('row', { name: /Sejmuto dne 20\. 11\. 2026 16:45/ })).toBeInTheDocument()
    expect(screen.getByText(/Písemnost se považuje za doručenou dnem 17\. 11\. 2026/)).toBeInTheDocument()
    expect(screen.getByText(/způsobem umožňujícím dálkový přístup/)).toBeInTheDocument()
    expect(screen.getByText(/ode dne 3\. 11\. 2026 do dne 20\. 11\. 2026 \(počet dní: 18\)/)).toBeInTheDocument()
    expect(screen.getByText('cd'.repeat(32))).toBeInTheDocument()
    expect(screen.getByRole('rowheader', { name: 'vyhlaska.pdf' })).toBeInTheDocument()
    expect(screen.getByText('ab'.repeat(32))).toBeInTheDocument()
    expect(screen.getByText('Vyhlášky a nařízení', { selector: 'dd' })).toBeInTheDocument()
    expect(screen.getByText('MML/123/2026', { selector: 'dd' })).toBeInTheDocument()
    expect(screen.getByText('Podpis a razítko:')).toBeInTheDocument()
    await expectAccessible()
    await userEvent.click(screen.getByRole('button', { name: 'Vytisknout' }))
    expect(print).toHaveBeenCalledOnce()
  })

  it('says a notice still hangs', async () => {
    const { takenDownAt: _, ...hanging } = certificate
    mockApi({ ...tenantRoutes(me(['auditor'])), [`GET ${base}/notices/${id}/certificate`]: hanging })
    renderApp(`/t/liberec/m/noticeboard/${id}/dolozka`)
    const dates = await screen.findByRole('table', { name: 'Vyvěšení a sejmutí' })
    expect(within(dates).getByRole('row', { name: /Sejmuto dne dosud visí/ })).toBeInTheDocument()
    expect(within(dates).getByRole('row', { name: /Plánované sejmutí do odvolání/ })).toBeInTheDocument()
  })

  it('explains a notice that never hung', async () => {
    mockApi({
      ...tenantRoutes(me(['clerk'])),
      [`GET ${base}/notices/${id}/certificate`]: () =>
        problem({ type: '/problems/conflict', title: 'Požadavek je v rozporu se stávajícím stavem', status: 409 }),
    })
    renderApp(`/t/liberec/m/noticeboard/${id}/dolozka`)
    expect(await screen.findByText(/dosud nebylo vyvěšeno/)).toBeInTheDocument()
    expect(screen.queryByRole('button', { name: 'Vytisknout' })).not.toBeInTheDocument()
    await expectAccessible()
  })

  it('is linked from a notice that has hung', async () => {
    const notice: Notice = {
      id,
      state: 'archived',
      title: certificate.title,
      body: '',
      category: 'vyhlasky',
      origin: 'own',
      originName: '',
      referenceNumber: '',
      fileMark: '',
      revision: 1,
      authorId: '9c7d6e5f-0000-4000-8000-000000000001',
      createdAt: '2026-11-02T08:00:00Z',
      updatedAt: '2026-11-20T15:45:00Z',
      postedAt: '2026-11-02T08:30:00Z',
      attachments: [],
    }
    mockApi({
      ...tenantRoutes(me(['clerk'])),
      [`GET ${base}/notices/${id}`]: notice,
      [`GET ${base}/notices/${id}/revisions`]: { items: [] },
    })
    renderApp(`/t/liberec/m/noticeboard/${id}`)
    const link = await screen.findByRole('link', { name: 'Doložka o vyvěšení' })
    expect(link).toHaveAttribute('href', `/t/liberec/m/noticeboard/${id}/dolozka`)
  })
})
