import type { components } from '../../api/schema'
import type { MessageKey } from '../../i18n/messages'
import type { Membership } from '../../api/client'

export type Notice = components['schemas']['Notice']
export type NoticeState = components['schemas']['NoticeState']
export type NoticeCategory = components['schemas']['NoticeCategory']
export type NoticeInput = components['schemas']['NoticeInput']
export type NoticeRevision = components['schemas']['NoticeRevision']
export type NoticeAttachment = components['schemas']['NoticeAttachment']

export const states: NoticeState[] = ['draft', 'pending_approval', 'scheduled', 'posted', 'archived']
export const categories: NoticeCategory[] = [
  'vyhlasky',
  'rozpocet',
  'uzemni-plan',
  'zakazky',
  'volby',
  'jine-urady',
  'ostatni',
]

export const stateKey = (s: NoticeState) => `nb.state.${s}` as MessageKey
export const categoryKey = (c: NoticeCategory) => `nb.cat.${c}` as MessageKey

// Who may do what on the board. The API enforces the same (and that nobody approves their own
// notice); these only decide which buttons the page offers.
const writers = ['tenant-admin', 'clerk']
export const canWrite = (m?: Membership) => !!m?.roles.some((r) => writers.includes(r))
export const canManageSettings = (m?: Membership) => !!m?.roles.includes('tenant-admin')

export const boardPath = (slug: string) => `/t/${slug}/m/noticeboard`
export const publicBoardUrl = (slug: string) => `/o/${slug}/uredni-deska`

/** An ISO time as the value of a datetime-local input, in the browser's time zone. */
export function toLocalInput(iso?: string): string {
  if (!iso) return ''
  const d = new Date(iso)
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`
}

/** A datetime-local value as an ISO time, or undefined when empty. */
export function fromLocalInput(value: string): string | undefined {
  if (!value) return undefined
  const d = new Date(value)
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString()
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} kB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}
