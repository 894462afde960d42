import type { Me, Membership } from '../api/client'

// Who may see which kernel page. The API enforces the same rules; these only decide what the
// navigation offers and which pages explain "access denied" instead of failing on a 403.
export const settingsRoles = ['tenant-admin']
export const membersRoles = ['tenant-admin', 'auditor']
export const logsRoles = ['tenant-admin', 'auditor']
// tokens: API tokens act for the municipality without a person, so only its admin manages them.
export const tokensRoles = ['tenant-admin']

export function hasAnyRole(membership: Membership | undefined, roles: readonly string[]): boolean {
  return !!membership?.roles.some((role) => roles.includes(role))
}

export function isPlatformAdmin(me: Me | undefined): boolean {
  return !!me?.platformRoles.includes('platform-admin')
}

export function membershipOf(me: Me | undefined, slug: string): Membership | undefined {
  return me?.memberships.find((membership) => membership.slug === slug)
}

/** The kraje (NUTS codes) the user is a regional operator of: "operator:CZ051" → "CZ051". */
export function operatorKraje(me: Me | undefined): string[] {
  return (me?.platformRoles ?? []).filter((role) => role.startsWith('operator:')).map((role) => role.slice(9))
}
