import type { OrgUnit } from './repository.ts'

/**
 * Provincial departments (sở, ban, ngành) of Điện Biên after the 2025 reorganisation, and the
 * electricity company, which handles power faults reported by citizens. Codes are ours
 * (`11.<abbreviation>`), as the GSO list covers administrative units only.
 */
export const DIEN_BIEN_DEPARTMENTS: OrgUnit[] = [
  ['11.SXD', 'Sở Xây dựng', 'Department of Construction'],
  ['11.SNNMT', 'Sở Nông nghiệp và Môi trường', 'Department of Agriculture and Environment'],
  ['11.SYT', 'Sở Y tế', 'Department of Health'],
  ['11.SGDDT', 'Sở Giáo dục và Đào tạo', 'Department of Education and Training'],
  ['11.CA', 'Công an tỉnh', 'Provincial Police'],
  ['11.SCT', 'Sở Công Thương', 'Department of Industry and Trade'],
  ['11.SKHCN', 'Sở Khoa học và Công nghệ', 'Department of Science and Technology'],
  ['11.SNV', 'Sở Nội vụ', 'Department of Home Affairs'],
  ['11.STC', 'Sở Tài chính', 'Department of Finance'],
  ['11.STP', 'Sở Tư pháp', 'Department of Justice'],
  ['11.SVHTTDL', 'Sở Văn hóa, Thể thao và Du lịch', 'Department of Culture, Sports and Tourism'],
  ['11.SDTTG', 'Sở Dân tộc và Tôn giáo', 'Department of Ethnic Minorities and Religion'],
  ['11.PCDB', 'Công ty Điện lực Điện Biên', 'Dien Bien Power Company'],
  ['11.IOC', 'Trung tâm Giám sát, điều hành đô thị thông minh (IOC)', 'Intelligent Operations Centre'],
].map(([code, name_vi, name_en]) => ({ code, name_vi, name_en, kind: 'department' as const, parent_code: '11' }))
