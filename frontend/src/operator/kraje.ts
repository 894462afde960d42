// The fourteen kraje by their NUTS 3 code; their names are proper names in both languages.
const kraje: Record<string, string> = {
  CZ010: 'Hlavní město Praha',
  CZ020: 'Středočeský kraj',
  CZ031: 'Jihočeský kraj',
  CZ032: 'Plzeňský kraj',
  CZ041: 'Karlovarský kraj',
  CZ042: 'Ústecký kraj',
  CZ051: 'Liberecký kraj',
  CZ052: 'Královéhradecký kraj',
  CZ053: 'Pardubický kraj',
  CZ063: 'Kraj Vysočina',
  CZ064: 'Jihomoravský kraj',
  CZ071: 'Olomoucký kraj',
  CZ072: 'Zlínský kraj',
  CZ080: 'Moravskoslezský kraj',
}

export function krajName(code: string): string {
  return kraje[code] ?? code
}
