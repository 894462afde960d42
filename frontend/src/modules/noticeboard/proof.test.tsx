import { screen, within } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { me, mockApi, tenantRoutes } from '../../test/api'
import { renderApp } from '../../test/render'
import { isEarlyTakeDown, pragueToday } from './LegalDates'
import type { Notice } from './labels'

const base = '/api/v1/tenants/liberec/noticeboard'

const posted: Notice = {
  id: '0193a000-0000-7000-8000-000000000002',
  state: 'posted',
  title: 'Veřejná vyhláška o stavebním řízení',
  body: '',
  category: 'vyhlasky',
  origin: 'own',
  originName: '',
  referenceNumber: '',
  fileMark: '',
  revision: 1,
  authorId: '9c7d6e5f-0000-4000-8000-000000000001',
  createdAt: '2026-12-09T09:00:00Z',
  updatedAt: '2026-12-09T09:00:00Z',
  postedAt: '2026-12-09T09:00:00Z',
  postingAt: '2026-12-09T09:00:00Z',
  deliveredOn: '2026-12-24',
  deliveredOnRestDay: 'Štědrý den',
  earliestTakeDownOn: '2026-12-25',
  attachments: [],
}

describe('legal dates', () => {
  it('reads today in Prague, not in UTC', () => {
    expect(pragueToday(new Date('2026-12-31T23:30:00Z'))).toBe('2027-01-01')
    expect(pragueToday(new Date('2026-07-01T21:59:00Z'))).toBe('2026-07-01')
    expect(pragueToday(new Date('2026-07-01T22:00:00Z'))).toBe('2026-07-02')
  })

  it('is early before the earliest take-down day only', () => {
    expect(isEarlyTakeDown(posted, new Date('2026-12-24T22:59:00Z'))).toBe(true) // 23:59 on the 24th in Prague
    expect(isEarlyTakeDown(posted, new Date('2026-12-24T23:00:00Z'))).toBe(false) // midnight of the 25th
    expect(isEarlyTakeDown({ ...posted, state: 'archived' }, new Date('2026-12-10T10:00:00Z'))).toBe(false)
  })

  it('shows the delivery day and warns before an early take-down', async () => {
    const early = { ...posted, deliveredOn: '2099-01-01', deliveredOnRestDay: undefined, earliestTakeDownOn: '2099-01-02' }
    mockApi({
      ...tenantRoutes(me(['clerk'])),
      [`GET ${base}/notices/${posted.id}`]: early,
      [`GET ${base}/notices/${posted.id}/revisions`]: { items: [] },
    })
    renderApp(`/t/liberec/m/noticeboard/${posted.id}`)
    expect(await screen.findByText('Den doručení (15. den po vyvěšení)')).toBeInTheDocument()
    expect(screen.getByText('Sejmout lze nejdříve')).toBeInTheDocument()
    expect(screen.getByText(/ještě nevisí zákonných 15 dní/)).toBeInTheDocument()
    // The form to take it down is still there: the warning does not forbid.
    expect(screen.getByRole('button', { name: 'Sejmout oznámení' })).toBeInTheDocument()
  })

  it('names the rest day and does not warn once the notice may come down', async () => {
    const past = { ...posted, deliveredOn: '2025-12-24', earliestTakeDownOn: '2025-12-25' }
    mockApi({
      ...tenantRoutes(me(['clerk'])),
      [`GET ${base}/notices/${posted.id}`]: past,
      [`GET ${base}/notices/${posted.id}/revisions`]: { items: [] },
    })
    renderApp(`/t/liberec/m/noticeboard/${posted.id}`)
    expect(await screen.findByText(/Štědrý den — den doručení se neposouvá/)).toBeInTheDocument()
    expect(screen.queryByText(/ještě nevisí zákonných 15 dní/)).not.toBeInTheDocument()
  })
})

describe('proof of posting', () => {
  it('lists the days and says whether the chain is intact', async () => {
    mockApi({
      ...tenantRoutes(me(['auditor'])),
      [`GET ${base}/snapshots`]: {
        chainIntact: false,
        brokenDay: '2026-11-21',
        problem: 'the content does not match its hash',
        items: [
          { day: '2026-11-22', takenAt: '2026-11-21T23:05:00Z', noticeCount: 3, hash: 'ab'.repeat(32) },
          { day: '2026-11-21', takenAt: '2026-11-20T23:05:00Z', noticeCount: 2, hash: 'cd'.repeat(32) },
        ],
      },
    })
    renderApp('/t/liberec/m/noticeboard/dukaz-vyveseni')
    expect(await screen.findByRole('heading', { level: 1, name: 'Důkaz vyvěšení' })).toBeInTheDocument()
    const table = await screen.findByRole('table', { name: 'Denní záznamy úřední desky' })
    expect(within(table).getAllByRole('row')).toHaveLength(3)
    expect(within(table).getByRole('button', { name: /Stáhnout JSON za 22\. 11\. 2026/ })).toBeInTheDocument()
    expect(screen.getByText(/Řetězec záznamů je porušen u dne 21\. 11\. 2026/)).toBeInTheDocument()
  })
})
