import axe from 'axe-core'
import { expect } from 'vitest'

/**
 * Runs axe-core on the rendered document and expects no serious or critical violations. jsdom
 * has no layout, so rules that need one (colour contrast) are left to the browser tests.
 */
export async function expectAccessible(root: Element = document.body) {
  const { violations } = await axe.run(root, { rules: { 'color-contrast': { enabled: false } } })
  const blocking = violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
  expect(blocking).toEqual([])
}
