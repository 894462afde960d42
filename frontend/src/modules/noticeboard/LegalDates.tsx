import { GovMessage } from '@gov-design-system-ce/react'
import type { I18n } from '../../i18n/I18nProvider'
import type { Notice } from './labels'

/** Today in Prague as YYYY-MM-DD, comparable with the API's dates. */
export function pragueToday(now = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Prague' }).format(now)
}

/** Whether taking the notice down now would be before its earliest lawful take-down day. */
export function isEarlyTakeDown(n: Notice, now = new Date()): boolean {
  return n.state === 'posted' && !!n.earliestTakeDownOn && pragueToday(now) < n.earliestTakeDownOn
}

/**
 * The rows the detail shows for the legal dates (§ 25 odst. 2 správního řádu), computed by the
 * API: the day of delivery by public notice and the earliest take-down.
 */
export function legalDateRows(n: Notice, { t, formatDate }: Pick<I18n, 't' | 'formatDate'>): [string, string | undefined][] {
  if (!n.deliveredOn) return []
  const delivered = formatDate(n.deliveredOn)
  return [
    [
      t('nbp.deliveredOn'),
      n.deliveredOnRestDay ? t('nbp.deliveredOnRestDay', { date: delivered, day: n.deliveredOnRestDay }) : delivered,
    ],
    [t('nbp.earliestTakeDown'), n.earliestTakeDownOn && formatDate(n.earliestTakeDownOn)],
  ]
}

/** Warns (but does not forbid) a clerk about to take a notice down before the law allows. */
export function EarlyTakeDownWarning({ notice: n, i18n }: { notice: Notice; i18n: Pick<I18n, 't' | 'formatDate'> }) {
  if (!isEarlyTakeDown(n)) return null
  return (
    <GovMessage color="warning" type="subtle" className="epom-block">
      {i18n.t('nbp.earlyWarning', { date: i18n.formatDate(n.earliestTakeDownOn!) })}
    </GovMessage>
  )
}
