/** Licences offered for datasets (CKAN license ids). Open ones count in the quality score. */
export const LICENSES: Record<string, { title: string; url: string; open: boolean }> = {
  'cc-by-4.0': { title: 'Creative Commons Attribution 4.0', url: 'https://creativecommons.org/licenses/by/4.0/', open: true },
  'cc-by-sa-4.0': { title: 'Creative Commons Attribution Share-Alike 4.0', url: 'https://creativecommons.org/licenses/by-sa/4.0/', open: true },
  'cc-zero': { title: 'Creative Commons CCZero', url: 'https://creativecommons.org/publicdomain/zero/1.0/', open: true },
  'odc-by': { title: 'Open Data Commons Attribution License', url: 'https://opendatacommons.org/licenses/by/1-0/', open: true },
  'odc-odbl': { title: 'Open Data Commons Open Database License (ODbL)', url: 'https://opendatacommons.org/licenses/odbl/1-0/', open: true },
  'other-closed': { title: 'Không mở / Other (Not Open)', url: '', open: false },
  notspecified: { title: 'License not specified', url: '', open: false },
}
export const LICENSE_IDS = Object.keys(LICENSES)
